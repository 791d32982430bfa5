from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "trousseau.demo"
    label = "demo"
