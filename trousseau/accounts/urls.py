from django.urls import path

from trousseau.accounts import views

app_name = "accounts"
urlpatterns = [
    path("compte/", views.home, name="home"),
    path("logout", views.logout_view, name="logout"),
    # Placeholders until their issues land (self-registration, recovery, FranceConnect).
    path("identifiant-perdu/", views.coming_soon, {"title": "Identifiant perdu"}, name="lost_identifier"),
    path("mot-de-passe-perdu/", views.coming_soon, {"title": "Mot de passe perdu"}, name="lost_password"),
    path("inscription/", views.coming_soon, {"title": "Je n'ai pas de compte"}, name="register"),
    path("franceconnect/", views.coming_soon, {"title": "S'identifier avec FranceConnect"}, name="franceconnect"),
]
