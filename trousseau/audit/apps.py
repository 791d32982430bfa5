from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "trousseau.audit"
    label = "audit"
