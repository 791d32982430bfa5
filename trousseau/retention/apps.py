from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "trousseau.retention"
    label = "retention"
