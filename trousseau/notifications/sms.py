"""SMS sending: a backend named by `SMS_BACKEND`, like Django's `EMAIL_BACKEND`."""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from trousseau.notifications.models import Channel, OutboxMessage


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str) -> None:
        """Send one SMS to an E.164 number; raise on failure so the caller can retry."""


class OutboxSmsBackend:
    """Dev and test twin: the SMS lands in the outbox page instead of a phone."""

    def send(self, *, to: str, body: str) -> None:
        OutboxMessage.objects.create(channel=Channel.SMS, to=to, body=body)


def get_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend
