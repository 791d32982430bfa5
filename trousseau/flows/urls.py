from django.urls import path

from trousseau.flows.views import activation, email, login

app_name = "flows"
urlpatterns = [
    path("", login.login_view, name="home"),
    path("login", login.login_view, name="login"),
    path("activation/<uuid:flow_id>/", activation.activation, name="activation"),
    path("email/verifier/<str:token>/", email.email_verify, name="email_verify"),
    path("email/renvoyer/", email.email_resend, name="email_resend"),
]
