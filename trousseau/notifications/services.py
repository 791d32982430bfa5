"""What other apps call to notify someone; messages are French templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from trousseau.notifications.models import Channel, Delivery
from trousseau.notifications.tasks import deliver


def send_email(*, to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    body = render_to_string(template, context)
    _queue(channel=Channel.EMAIL, recipient=to, subject=subject, body=body)


def send_sms(*, to: str, body: str, expires_at: datetime | None = None) -> None:
    """Queue an SMS; one that carries a code passes the code's expiry, after which it is not sent."""
    _queue(channel=Channel.SMS, recipient=to, body=body, expires_at=expires_at)


def _queue(
    *, channel: Channel, recipient: str, body: str, subject: str = "", expires_at: datetime | None = None
) -> None:
    # The row is written in the caller's transaction, so the message exists exactly when the journey
    # that asked for it commits. The task starts only after that commit: a rolled-back journey sends
    # nothing, and a worker never looks for a row it cannot see yet. Robust: if enqueueing fails, the
    # caller's other commit hooks still run and `deliver_pending` picks the row up.
    now = timezone.now()
    delivery = Delivery.objects.create(
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        created_at=now,
        next_attempt_at=now,
        expires_at=expires_at,
    )

    # A named function, not functools.partial: Django logs a robust hook's failure by __qualname__.
    def enqueue_delivery() -> None:
        deliver.enqueue(delivery.pk)

    transaction.on_commit(enqueue_delivery, robust=True)
