from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "trousseau.notifications"
    label = "notifications"
