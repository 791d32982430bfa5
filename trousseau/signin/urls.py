"""Sign-in's pages. Their URL names predate the package and templates, services and the
FranceConnect registration use them (`flows:login`, `accounts:logout`, `idp_logout`): trousseau/urls.py
mounts each list under the namespace its names have always had."""

from django.urls import path

from trousseau.signin import franceconnect_button, logout, mire

in_flows_namespace = [
    path("", mire.login_view, name="home"),
    path("login", mire.login_view, name="login"),
    path("franceconnect/", franceconnect_button.start, name="franceconnect"),
    path("franceconnect/retour/", franceconnect_button.callback, name="franceconnect_callback"),
    path("franceconnect/deconnexion/", franceconnect_button.logged_out, name="franceconnect_logged_out"),
    path("franceconnect/delier/", franceconnect_button.unlink, name="franceconnect_unlink"),
]
in_accounts_namespace = [
    path("logout", logout.logout_view, name="logout"),
]
urlpatterns = [
    # ÉduConnect's FrEduUrlRetour path: browser logout ends every protocol's sessions.
    path("idp/profile/Logout", logout.idp_logout, name="idp_logout"),
]
