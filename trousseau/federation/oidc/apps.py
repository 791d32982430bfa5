from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "trousseau.federation.oidc"
    label = "oidc"
    verbose_name = "OpenID Connect"

    def ready(self) -> None:
        from trousseau.federation.oidc import signals  # noqa: F401, PLC0415 - connects its receiver
