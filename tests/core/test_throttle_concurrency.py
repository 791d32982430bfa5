"""Counters guarding secrets are atomic: concurrent failures are all counted (PostgreSQL row locks)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from trousseau.core import throttle
from trousseau.core.models import ThrottleCounter


@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_are_all_counted():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs a server database")
    guard = throttle.Guard("race", "x", free_failures=1000)

    def fail(_: int) -> None:
        try:
            throttle.record_failure(guard)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fail, range(40)))
    assert ThrottleCounter.objects.get(key=guard.key).failures == 40


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_and_successes_count_exactly_and_never_deadlock():
    """Admits and settles of the same keys in parallel: each lock order is the keys' order."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs a server database")
    guards = [throttle.Guard("race", name, free_failures=1000) for name in ("account", "account:address", "ip")]
    ip = guards[2]

    def attempt(n: int) -> None:
        try:
            assert throttle.admit(guards) is None
            if n % 2:  # a right password: the address refunded, the others forgotten
                throttle.settle(refund=[ip], reset=guards[:2])
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(attempt, range(60)))
    assert ThrottleCounter.objects.get(key=ip.key).failures == 30  # the 30 failures, none of the refunds


@pytest.mark.django_db(transaction=True)
def test_concurrent_guesses_stop_exactly_at_the_hard_limit():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs a server database")
    guard = throttle.Guard("race", "hard", free_failures=1000, hard_limit=7)
    other = throttle.Guard("race", "address", free_failures=1000)

    def guess(_: int) -> bool:
        try:
            return throttle.admit([guard, other]) is None
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        admitted = sum(pool.map(guess, range(40)))
    assert admitted == 7
    assert ThrottleCounter.objects.get(key=guard.key).failures == 7
    assert ThrottleCounter.objects.get(key=other.key).failures == 7  # refused guesses counted nowhere
    wait = throttle.wait_time([guard])
    assert wait is not None
    assert throttle.is_locked(wait)
