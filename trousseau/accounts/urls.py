from django.urls import path
from django.utils.translation import gettext_lazy as _

from trousseau.accounts import views

app_name = "accounts"
urlpatterns = [
    path("compte/", views.home, name="home"),
    path("logout", views.logout_view, name="logout"),
    # Placeholders until their issues land (self-registration, recovery, FranceConnect).
    path("franceconnect/", views.coming_soon, {"title": _("S'identifier avec FranceConnect")}, name="franceconnect"),
]
