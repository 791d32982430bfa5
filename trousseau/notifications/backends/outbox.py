"""The dev and test twin: SMS land on /dev/outbox/ instead of a phone."""

from __future__ import annotations

from trousseau.notifications.models import Channel, OutboxMessage


class OutboxSmsBackend:
    def send(self, *, to: str, body: str) -> None:
        OutboxMessage.objects.create(channel=Channel.SMS, to=to, body=body)
