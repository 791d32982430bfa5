from django.urls import path

from trousseau.flows import views

app_name = "flows"
urlpatterns = [
    path("", views.login_view, name="home"),
    path("login", views.login_view, name="login"),
    path("activation/<uuid:flow_id>/", views.activation, name="activation"),
    path("email/verifier/<str:token>/", views.email_verify, name="email_verify"),
    path("email/renvoyer/", views.email_resend, name="email_resend"),
]
