from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "trousseau.flows"
    label = "flows"
