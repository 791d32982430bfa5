from django.urls import path

from trousseau.flows.franceconnect_first_login import views as franceconnect_first_login
from trousseau.flows.views import account, activation, email, recovery, registration

app_name = "flows"
urlpatterns = [
    path("activation/<uuid:flow_id>/", activation.activation, name="activation"),
    path("email/verifier/<str:token>/", email.email_verify, name="email_verify"),
    path("email/renvoyer/", email.email_resend, name="email_resend"),
    path("inscription/", registration.start, name="registration"),
    path("inscription/<uuid:flow_id>/", registration.step, name="registration_step"),
    path("identifiant-perdu/", recovery.identifier_lost, name="lost_identifier"),
    path("mot-de-passe-perdu/", recovery.password_lost, name="lost_password"),
    path("mot-de-passe-perdu/<uuid:flow_id>/", recovery.password_step, name="lost_password_step"),
    path("mot-de-passe-perdu/lien/<str:uidb64>/<str:token>/", recovery.password_link, name="lost_password_link"),
    path("compte/email/", account.change_email, name="change_email"),
    path("compte/mobile/", account.mobile_start, name="change_mobile"),
    path("compte/mobile/<uuid:flow_id>/", account.mobile_step, name="change_mobile_step"),
    path("franceconnect/premiere-connexion/<uuid:flow_id>/", franceconnect_first_login.step, name="franceconnect_step"),
    path(
        "franceconnect/premiere-connexion/<uuid:flow_id>/pas-moi/",
        franceconnect_first_login.not_me,
        name="franceconnect_not_me",
    ),
]
