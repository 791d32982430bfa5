from django.urls import path

from trousseau.flows.views import activation, email, login, recovery, registration

app_name = "flows"
urlpatterns = [
    path("", login.login_view, name="home"),
    path("login", login.login_view, name="login"),
    path("activation/<uuid:flow_id>/", activation.activation, name="activation"),
    path("email/verifier/<str:token>/", email.email_verify, name="email_verify"),
    path("email/renvoyer/", email.email_resend, name="email_resend"),
    path("inscription/", registration.start, name="registration"),
    path("inscription/<uuid:flow_id>/", registration.step, name="registration_step"),
    path("identifiant-perdu/", recovery.identifier_lost, name="lost_identifier"),
    path("mot-de-passe-perdu/", recovery.password_lost, name="lost_password"),
    path("mot-de-passe-perdu/<uuid:flow_id>/", recovery.password_step, name="lost_password_step"),
    path("mot-de-passe-perdu/lien/<str:uidb64>/<str:token>/", recovery.password_link, name="lost_password_link"),
]
