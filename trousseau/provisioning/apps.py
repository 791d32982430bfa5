from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "trousseau.provisioning"
    label = "provisioning"
