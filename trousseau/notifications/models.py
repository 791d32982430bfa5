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
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.to}"
