from django.apps import AppConfig


class SamlConfig(AppConfig):
    name = "trousseau.federation.saml"
    label = "saml"
    verbose_name = "SAML 2.0"

    def ready(self) -> None:
        from trousseau.core import continuation, warm  # noqa: PLC0415
        from trousseau.federation.saml import keys, logout, prefixes  # noqa: PLC0415 - pysaml2 is loaded only with the app
        from trousseau.federation.saml.catalogue import CATALOGUE  # noqa: PLC0415 - models are loaded now
        from trousseau.signin import logout as signin_logout  # noqa: PLC0415

        prefixes.install()
        # Sign-in never imports a protocol: SAML tells it how its SPs hear of a logout.
        signin_logout.register(logout.PARTICIPANT)
        continuation.register_catalogue(CATALOGUE)
        warm.at_start("saml", keys.warm)
