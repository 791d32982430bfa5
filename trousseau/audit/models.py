"""The audit trail's one table."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    # An EventTag value; no `choices`, so that a new kind of event needs no migration.
    tag = models.CharField(max_length=64, db_index=True)
    # By name: the trail sits below accounts and imports none of it.
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        # Born in `accounts` (migrations accounts 0001-0010); moved here without moving its rows.
        db_table = "accounts_auditevent"
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.tag}"
