from django.apps import AppConfig


class SamlConfig(AppConfig):
    name = "trousseau.federation.saml"
    label = "saml"
    verbose_name = "SAML 2.0"
