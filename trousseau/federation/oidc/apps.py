from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "trousseau.federation.oidc"
    label = "oidc"
    verbose_name = "OpenID Connect"
