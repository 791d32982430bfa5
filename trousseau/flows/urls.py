from django.urls import path

from trousseau.flows.activation_by_letter import views as activation_by_letter
from trousseau.flows.change_mobile import views as change_mobile
from trousseau.flows.email_verification import views as email_verification
from trousseau.flows.franceconnect_first_login import views as franceconnect_first_login
from trousseau.flows.lost_identifier import views as lost_identifier
from trousseau.flows.lost_password import views as lost_password
from trousseau.flows.self_registration import views as self_registration

app_name = "flows"
urlpatterns = [
    path("activation/<uuid:flow_id>/", activation_by_letter.activation, name="activation_by_letter"),
    path("email/verifier/<str:token>/", email_verification.email_verify, name="email_verification"),
    path("email/renvoyer/", email_verification.email_resend, name="email_verification_resend"),
    path("inscription/", self_registration.start, name="self_registration"),
    path("inscription/identite/", self_registration.identity, name="self_registration_identity"),
    path("inscription/<uuid:flow_id>/", self_registration.step, name="self_registration_step"),
    path("identifiant-perdu/", lost_identifier.identifier_lost, name="lost_identifier"),
    path("mot-de-passe-perdu/", lost_password.password_lost, name="lost_password"),
    path("mot-de-passe-perdu/<uuid:flow_id>/", lost_password.password_step, name="lost_password_step"),
    path("mot-de-passe-perdu/lien/<str:uidb64>/<str:token>/", lost_password.password_link, name="lost_password_link"),
    path("compte/email/", email_verification.change_email, name="change_email"),
    path("compte/mobile/", change_mobile.mobile_start, name="change_mobile"),
    path("compte/mobile/<uuid:flow_id>/", change_mobile.mobile_step, name="change_mobile_step"),
    path(
        "franceconnect/premiere-connexion/<uuid:flow_id>/",
        franceconnect_first_login.step,
        name="franceconnect_first_login_step",
    ),
    path(
        "franceconnect/premiere-connexion/<uuid:flow_id>/pas-moi/",
        franceconnect_first_login.not_me,
        name="franceconnect_first_login_not_me",
    ),
]
