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
