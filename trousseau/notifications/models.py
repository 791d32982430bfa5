from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class OutboxMessage(models.Model):
    """A message the dev twins 'sent': what a demo user or a test reads instead of a phone or inbox."""

    channel = models.CharField(max_length=5, choices=Channel.choices)
    to = models.CharField(max_length=254, db_index=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.to}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "En attente"
    SENT = "sent", "Envoyé"
    FAILED = "failed", "Échec"


class Delivery(models.Model):
    """One SMS or email to send, written in the caller's transaction so that an outage loses nothing.

    A row stays `pending` until a gateway accepts it; each attempt bumps `attempts`, and a failed
    attempt pushes `next_attempt_at` back. `next_attempt_at` doubles as a lease: a worker claims a row
    by moving it into the future, so no other worker picks it up while it is being sent.
    """

    channel = models.CharField(max_length=5, choices=Channel.choices)
    # Masked once the row is settled (`masking.mask_recipient`): support keeps the last digits, not the number.
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=255, blank=True)
    # Emptied once the row is settled: bodies carry one-time codes and signed links.
    body = models.TextField(blank=True)
    state = models.CharField(max_length=7, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A one-time code is useless once it has expired: an SMS still unsent by then is dropped rather than
    # reach the phone late and be typed into a page that can only refuse it.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering: ClassVar[list[str]] = ["created_at", "id"]
        indexes: ClassVar[list[models.Index]] = [
            # The worker's only query: due pending rows. Settled rows never need this index.
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(state="pending"), name="notifications_delivery_due"
            ),
            # The retention purge's query: settled rows past their time.
            models.Index(
                fields=["created_at"], condition=~models.Q(state="pending"), name="notifications_delivery_settled"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient} ({self.state}, {self.attempts})"
