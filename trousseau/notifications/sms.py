"""SMS sending: a backend named by `SMS_BACKEND`, like Django's `EMAIL_BACKEND`.

Settings name `trousseau.notifications.sms.OutboxSmsBackend`, so the twin stays importable from here.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from trousseau.notifications.backends.base import DeliveryError, PermanentDeliveryError, SmsBackend
from trousseau.notifications.backends.outbox import OutboxSmsBackend

__all__ = ["DeliveryError", "OutboxSmsBackend", "PermanentDeliveryError", "SmsBackend", "get_backend"]


def get_backend() -> SmsBackend:
    # Built per delivery, as Django does for email, so settings changes (and test overrides) apply.
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend
