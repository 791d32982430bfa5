"""Budgets of events per time window (SMS per phone, per address…), shared through the database.

Unlike `throttle`, which slows failures down, a budget caps actions that cost money or reach a
person (an SMS), whether they succeed or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from trousseau.core.models import RateCounter
from trousseau.core.secrets import keyed_digest

# Counters of windows that began longer ago than this are closed: the retention purge deletes them.
LONGEST_PERIOD = timedelta(days=1)


@dataclass(frozen=True)
class Budget:
    scope: str
    limit: int
    period: timedelta

    def __post_init__(self) -> None:
        if not timedelta(0) < self.period <= LONGEST_PERIOD:
            msg = f"a budget's period is at most {LONGEST_PERIOD} (the purge forgets older windows)"
            raise ValueError(msg)


def _window(now: datetime, period: timedelta) -> datetime:
    seconds = int(period.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def consume(budget: Budget, value: str, *, now: datetime | None = None) -> bool:
    """Take one unit of the budget for this value; False (and nothing taken) when it is spent."""
    now = now or timezone.now()
    key = keyed_digest(f"{budget.scope}:{value}", purpose="ratelimit")
    window = _window(now, budget.period)
    for _ in range(3):
        try:
            with transaction.atomic():
                RateCounter.objects.get_or_create(key=key, window_start=window)
                row = RateCounter.objects.select_for_update().get(key=key, window_start=window)
                if row.count >= budget.limit:
                    return False
                row.count += 1
                row.save(update_fields=["count"])
                return True
        except IntegrityError:  # two first uses raced on the insert: the row now exists
            continue
    msg = "rate counter could not be updated"
    raise RuntimeError(msg)


def take(budgets: list[tuple[Budget, str]], *, now: datetime | None = None) -> Budget | None:
    """Take one unit from each budget, or from none if any is spent (all in one transaction);
    returns the budget that was spent, or None when every unit was taken."""
    with transaction.atomic():
        for budget, value in budgets:
            if not consume(budget, value, now=now):
                # Give back what was taken from the earlier budgets of this call.
                transaction.set_rollback(True)
                return budget
    return None


def consume_all(budgets: list[tuple[Budget, str]], *, now: datetime | None = None) -> bool:
    """Take one unit from each budget, or from none if any is spent."""
    return take(budgets, now=now) is None
