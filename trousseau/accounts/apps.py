from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "trousseau.accounts"
    label = "accounts"
