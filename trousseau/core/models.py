from __future__ import annotations

from django.db import models


class ThrottleCounter(models.Model):
    """Failures counted under one key (a hashed identifier, address, or phone).

    Keys are digests so that the table holds no identifier or address in clear.
    """

    key = models.CharField(max_length=64, primary_key=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, db_index=True)  # the retention purge's filter
    blocked_until = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.key[:8]}… {self.failures}"


class RateCounter(models.Model):
    """Events counted in a fixed time window under one key (e.g. SMS sent to a number this hour)."""

    key = models.CharField(max_length=64)
    window_start = models.DateTimeField(db_index=True)  # the retention purge's filter
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="one_counter_per_window")]

    def __str__(self) -> str:
        return f"{self.key[:8]}… {self.window_start:%H:%M} {self.count}"
