from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "trousseau.core"
    label = "core"
