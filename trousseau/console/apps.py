from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "trousseau.console"
    label = "console"
    verbose_name = "Console des établissements"
