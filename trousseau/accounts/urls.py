from django.urls import path

from trousseau.accounts import views

app_name = "accounts"
urlpatterns = [
    path("compte/", views.home, name="home"),
    path("compte/services/", views.services, name="services"),
    path("compte/mot-de-passe/", views.change_password, name="password"),
    path("mot-de-passe/verifier/", views.password_check, name="password_check"),
    path("compte/sessions/fermer/", views.end_other_sessions, name="end_sessions"),
    path("compte/historique/", views.history, name="history"),
    path("compte/regrouper/", views.group_accounts, name="grouping"),
    path("compte/mes-donnees/", views.export_data, name="export"),
    path("compte/signalement/<str:token>/", views.report_change, name="report_change"),
]
