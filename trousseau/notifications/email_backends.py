"""A Django email backend that keeps messages in the outbox table (the demo's inbox)."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from trousseau.notifications.models import Channel, OutboxMessage


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            for recipient in message.recipients():
                OutboxMessage.objects.create(
                    channel=Channel.EMAIL, to=recipient, subject=str(message.subject), body=str(message.body)
                )
        return len(email_messages)
