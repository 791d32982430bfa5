"""Counters guarding secrets are atomic: concurrent failures are all counted (PostgreSQL row locks)."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

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


@pytest.mark.django_db(transaction=True)
def test_a_closed_guard_stops_the_count_of_the_others_in_one_statement():
    if connection.vendor != "postgresql":
        pytest.skip("one statement on PostgreSQL only")
    closed = throttle.Guard("race", "closed", free_failures=0)
    other = throttle.Guard("race", "other", free_failures=1000)
    assert throttle.admit([closed]) is None  # its first failure closes it (no free allowance)
    with CaptureQueriesContext(connection) as captured:
        wait = throttle.admit([closed, other])
    assert wait is not None
    assert wait > timedelta(0)
    assert len(captured.captured_queries) == 1  # the read, no write, no transaction
    assert not ThrottleCounter.objects.filter(key=other.key).exists()
    assert ThrottleCounter.objects.get(key=closed.key).failures == 1


@pytest.mark.django_db(transaction=True)
def test_a_guard_closed_while_the_statement_waits_for_its_lock_gives_the_others_their_count_back():
    """Another attempt closes a guard after the statement's read, before its lock: the attempt is refused
    and nothing it counted stays (the others refunded), as when a transaction rolled them back."""
    if connection.vendor != "postgresql":
        pytest.skip("the race needs a server database")
    racing = throttle.Guard("race", "closing", free_failures=1000)
    other = throttle.Guard("race", "address", free_failures=1000)
    assert throttle.admit([racing, other]) is None  # both rows exist, one failure each
    closer = connections.create_connection("default")
    table = ThrottleCounter._meta.db_table
    try:
        with closer.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                f"UPDATE {table} SET failures = failures + 1, blocked_until = now() + interval '1 hour' WHERE key = %s",  # noqa: S608
                [racing.key],
            )

            def attempt() -> timedelta | None:
                try:
                    return throttle.admit([racing, other])
                finally:
                    connections.close_all()

            with ThreadPoolExecutor(max_workers=1) as pool:
                future = pool.submit(attempt)
                _wait_for_a_lock_wait()
                cursor.execute("COMMIT")
                wait = future.result(timeout=30)
    finally:
        closer.close()
    assert wait is not None
    assert wait > timedelta(minutes=50)
    assert ThrottleCounter.objects.get(key=racing.key).failures == 2  # the closer's, not the attempt's
    assert ThrottleCounter.objects.get(key=other.key).failures == 1  # counted, then given back


def _wait_for_a_lock_wait(seconds: float = 20.0) -> None:
    """Until a backend of this database waits for a lock. Read outside any transaction: inside one,
    pg_stat_activity keeps showing what it showed first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    pytest.fail("the attempt never waited for the row's lock")
