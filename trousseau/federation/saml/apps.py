from django.apps import AppConfig


class SamlConfig(AppConfig):
    name = "trousseau.federation.saml"
    label = "saml"
    verbose_name = "SAML 2.0"

    def ready(self) -> None:
        from trousseau.federation.saml import prefixes  # noqa: PLC0415 - pysaml2 is loaded only with the app

        prefixes.install()
