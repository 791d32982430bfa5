"""Growing delays after repeated failures, shared by every web process through the database.

A key is blocked for `base * 2**(n-1)` after its n-th failure past the free allowance, capped at
`THROTTLE_MAX_DELAY`: guessing becomes slow. A guard with a hard limit stays closed past it until a
recovery resets the key (the family gets out alone, by SMS or email). Counters are forgotten after
`THROTTLE_FORGET_AFTER` without failure. Guesses go through `admit`, which
counts the attempt before the secret is compared, under a row lock, so that concurrent guesses
cannot all pass a guard about to close; `refund` or `reset` then give back what did not fail.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TypedDict

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from trousseau.core import throttle_sql
from trousseau.core.models import ThrottleCounter
from trousseau.core.secrets import keyed_digest

LOCKED = timedelta(days=3650)  # "until a recovery resets the key": far past any delay
_LOCK_ATTEMPTS = 5  # a key reset this many times while an attempt locks it: something is wrong


@dataclass(frozen=True)
class Guard:
    """One throttled dimension: a namespace, the value it counts, and its free allowance."""

    scope: str
    value: str
    free_failures: int
    # Past this many failures in a row the key stays closed until `reset` (a recovery): growing delays
    # alone still allow about a hundred guesses a day, for ever (NIST SP 800-63B §3.2.2: at most 100).
    hard_limit: int | None = None

    @cached_property
    def key(self) -> str:
        # Kept on the guard: an attempt reads it about fifteen times (lock order, counting, settling), an HMAC each.
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


COUNTED = ["failures", "last_failure_at", "blocked_until"]


def _count(row: ThrottleCounter, guard: Guard, now: datetime) -> None:
    """One more failure on a locked row, and the delay it now imposes."""
    forget_after: timedelta = settings.THROTTLE_FORGET_AFTER
    if row.last_failure_at and now - row.last_failure_at > forget_after:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    delay = delay_after(row.failures, guard.free_failures)
    row.blocked_until = now + delay if delay else None
    if guard.hard_limit is not None and row.failures >= guard.hard_limit:
        row.blocked_until = now + LOCKED
    row.save(update_fields=COUNTED)


def is_locked(wait: timedelta) -> bool:
    """A wait that only a recovery ends, not time (see Guard.hard_limit)."""
    max_delay: timedelta = settings.THROTTLE_MAX_DELAY
    return wait > max_delay


def _locked(guard: Guard) -> ThrottleCounter:
    """The guard's row, created if needed, locked until the surrounding transaction ends."""
    return _locked_rows([guard])[0]


def _locked_rows(ordered: list[Guard]) -> list[ThrottleCounter]:
    """The guards' rows (same order), created if needed, locked until the surrounding transaction ends.

    Two statements whatever the number of guards: the missing rows inserted (a racing insert is
    ignored), then all of them locked in key order, the one lock order of every process (no deadlock).
    A row reset between the two (a concurrent success deleting its counter) is inserted again.
    """
    keys = [guard.key for guard in ordered]
    for _ in range(_LOCK_ATTEMPTS):
        ThrottleCounter.objects.bulk_create([ThrottleCounter(key=key) for key in keys], ignore_conflicts=True)
        rows = {
            row.key: row for row in ThrottleCounter.objects.select_for_update().filter(key__in=keys).order_by("key")
        }
        if len(rows) == len(set(keys)):
            return [rows[key] for key in keys]
    msg = "throttle counters deleted faster than they could be locked"
    raise RuntimeError(msg)


def _blocked_at(failures: int, guard: Guard, now: datetime) -> datetime | None:
    """The key's `blocked_until` at its `failures`-th failure now (as `_count` sets it)."""
    if guard.hard_limit is not None and failures >= guard.hard_limit:
        return now + LOCKED
    delay = delay_after(failures, guard.free_failures)
    return now + delay if delay else None


class _Counting(TypedDict):
    """The arguments of throttle_sql's counting statements."""

    counters: list[throttle_sql.Counter]
    now: datetime
    first: list[datetime | None]
    locked: datetime


def _counters(ordered: list[Guard], now: datetime) -> _Counting:
    """What throttle_sql's counting statements take for the guards (sorted by key)."""
    unique = list({guard.key: guard for guard in ordered}.values())  # a key counted twice would fail the upsert
    return {
        "counters": [throttle_sql.Counter(guard.key, guard.free_failures, guard.hard_limit) for guard in unique],
        "now": now,
        "first": [_blocked_at(1, guard, now) for guard in unique],
        "locked": now + LOCKED,
    }


def record_failure(guard: Guard, *, now: datetime | None = None) -> int:
    """Count one failure atomically (row lock); returns the key's failure count."""
    now = now or timezone.now()
    if throttle_sql.supported():
        return throttle_sql.count(**_counters([guard], now))[guard.key]  # one statement: atomic as it is
    with transaction.atomic():
        row = _locked(guard)
        _count(row, guard, now)
        return row.failures


def admit(guards: list[Guard], *, now: datetime | None = None) -> timedelta | None:
    """Check every guard and count the attempt in one locked step; None when the attempt may proceed.

    Checking first and counting after the secret was compared lets concurrent attempts all pass a
    guard about to close (Keycloak CVE-2024-4629): here the attempt is counted as a failure before it
    is evaluated, under the rows' locks, so the attempt that closes a guard is the last one evaluated.
    An attempt that turns out not to fail gives its count back (`refund`, or `reset` on success).
    Returns the longest wait when a guard is closed; nothing is counted then.
    """
    now = now or timezone.now()
    ordered = sorted(guards, key=lambda guard: guard.key)  # one lock order in every process: no deadlock
    if throttle_sql.supported():
        return _admit_in_one_statement(ordered, now)
    with transaction.atomic():
        rows = _locked_rows(ordered)
        waits = [row.blocked_until - now for row in rows if row.blocked_until and row.blocked_until > now]
        if waits:
            return max(waits)
        for guard, row in zip(ordered, rows, strict=True):
            _count(row, guard, now)  # one UPDATE each: Django's bulk_update (CASE … WHEN) costs more CPU
    return None


def _admit_in_one_statement(ordered: list[Guard], now: datetime) -> timedelta | None:
    """`admit` on PostgreSQL: every guard counted by one statement, none when one is closed.

    A guard closed by a concurrent attempt after the statement read the counters is left uncounted:
    the others are then given their count back (the attempt was not evaluated) and the wait read again.
    Were the closed row reset in between (a recovery), the attempt is counted again from the start.
    """
    for _ in range(_LOCK_ATTEMPTS):
        admission = throttle_sql.count_if_open(**_counters(ordered, now))
        if admission.closed_until is not None:
            return admission.closed_until - now
        if len(admission.counted) == len({guard.key for guard in ordered}):
            return None
        settle(refund=[guard for guard in ordered if guard.key in admission.counted])
        wait = wait_time(ordered, now=now)
        if wait is not None:
            return wait
    msg = "throttle counters reset faster than an attempt could be counted"
    raise RuntimeError(msg)


def _give_back(row: ThrottleCounter, guard: Guard) -> None:
    row.failures = max(0, row.failures - 1)
    delay = delay_after(row.failures, guard.free_failures)
    row.blocked_until = (row.last_failure_at or timezone.now()) + delay if delay else None
    row.save(update_fields=["failures", "blocked_until"])


def refund(guard: Guard) -> None:
    """Give back an admitted attempt that did not fail (a right password, a spent letter)."""
    settle(refund=[guard])


def reset(guard: Guard) -> None:
    """Forget the key's failures (a success, a recovery); writes nothing when it has none."""
    settle(reset=[guard])


def settle(*, refund: Sequence[Guard] = (), reset: Sequence[Guard] = ()) -> None:
    """After an admitted attempt that did not fail: give back its count on `refund`, forget `reset`.

    One transaction (joining the caller's, if any: a login settles its counters in the same commit
    as its audit event and session), one lock of the existing rows in key order as in `admit`, then
    only the writes needed: a refunded row is updated, a reset row deleted, a key without a row
    costs nothing more.
    """
    guards = {guard.key: guard for guard in [*refund, *reset]}
    to_reset = {guard.key for guard in reset}
    if not guards:
        return
    if throttle_sql.supported():
        given_back = [guard for key, guard in guards.items() if key not in to_reset]
        counters = [throttle_sql.Counter(guard.key, guard.free_failures, guard.hard_limit) for guard in given_back]
        throttle_sql.settle(counters, sorted(to_reset), now=timezone.now())
        return
    with transaction.atomic(savepoint=False):  # inside a caller's transaction, its failure is the caller's
        rows = ThrottleCounter.objects.select_for_update().filter(key__in=list(guards)).order_by("key")
        gone = []
        for row in rows:
            if row.key in to_reset:
                gone.append(row.key)
            else:
                _give_back(row, guards[row.key])
        if gone:
            ThrottleCounter.objects.filter(key__in=gone).delete()


def minutes(wait: timedelta) -> int:
    """Whole minutes to tell a person, never zero."""
    return max(1, math.ceil(wait.total_seconds() / 60))
