"""Growing delays after repeated failures, shared by every web process through the database.

A key is blocked for `base * 2**(n-1)` after its n-th failure past the free allowance, capped at
`THROTTLE_MAX_DELAY`: guessing becomes slow while nobody can lock a family out for good. Counters
are forgotten after `THROTTLE_FORGET_AFTER` without failure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from trousseau.core.models import ThrottleCounter
from trousseau.core.secrets import keyed_digest


@dataclass(frozen=True)
class Guard:
    """One throttled dimension: a namespace, the value it counts, and its free allowance."""

    scope: str
    value: str
    free_failures: int

    @property
    def key(self) -> str:
        return keyed_digest(f"{self.scope}:{self.value}", purpose="throttle")


def wait_time(guards: list[Guard], *, now: datetime | None = None) -> timedelta | None:
    """The longest wait any of the guards imposes now, or None when all are open."""
    now = now or timezone.now()
    blocked = ThrottleCounter.objects.filter(key__in=[g.key for g in guards], blocked_until__gt=now)
    until = max((row.blocked_until for row in blocked if row.blocked_until), default=None)
    return until - now if until else None


def delay_after(failures: int, free_failures: int) -> timedelta | None:
    over = failures - free_failures
    if over <= 0:
        return None
    base: timedelta = settings.THROTTLE_BASE_DELAY
    cap: timedelta = settings.THROTTLE_MAX_DELAY
    # Exponent capped before the power so a huge counter cannot overflow the timedelta.
    delay: timedelta = min(base * 2 ** min(over - 1, 32), cap)
    return delay


def record_failure(guard: Guard, *, now: datetime | None = None) -> int:
    """Count one failure atomically (row lock); returns the key's failure count."""
    now = now or timezone.now()
    for _ in range(3):
        try:
            with transaction.atomic():
                ThrottleCounter.objects.get_or_create(key=guard.key)
                row = ThrottleCounter.objects.select_for_update().get(key=guard.key)
                forget_after: timedelta = settings.THROTTLE_FORGET_AFTER
                if row.last_failure_at and now - row.last_failure_at > forget_after:
                    row.failures = 0
                row.failures += 1
                row.last_failure_at = now
                delay = delay_after(row.failures, guard.free_failures)
                row.blocked_until = now + delay if delay else None
                row.save()
                return row.failures
        except IntegrityError:  # two first failures raced on the insert: the row now exists
            continue
    msg = "throttle counter could not be updated"
    raise RuntimeError(msg)


def reset(guard: Guard) -> None:
    ThrottleCounter.objects.filter(key=guard.key).delete()


def minutes(wait: timedelta) -> int:
    """Whole minutes to tell a person, never zero."""
    return max(1, math.ceil(wait.total_seconds() / 60))
