from datetime import timedelta

import pytest
from django.utils import timezone

from trousseau.core import throttle
from trousseau.core.models import ThrottleCounter

pytestmark = pytest.mark.django_db


def test_free_failures_do_not_block():
    guard = throttle.Guard("t", "a", free_failures=3)
    for _ in range(3):
        throttle.record_failure(guard)
    assert throttle.wait_time([guard]) is None


def test_delays_grow_and_are_capped(settings):
    settings.THROTTLE_BASE_DELAY = timedelta(seconds=30)
    settings.THROTTLE_MAX_DELAY = timedelta(minutes=15)
    assert throttle.delay_after(1, 0) == timedelta(seconds=30)
    assert throttle.delay_after(2, 0) == timedelta(seconds=60)
    assert throttle.delay_after(3, 0) == timedelta(seconds=120)
    assert throttle.delay_after(10_000, 0) == timedelta(minutes=15)


def test_a_blocked_key_unblocks_by_itself():
    guard = throttle.Guard("t", "b", free_failures=0)
    now = timezone.now()
    throttle.record_failure(guard, now=now)
    assert throttle.wait_time([guard], now=now) is not None
    assert throttle.wait_time([guard], now=now + timedelta(hours=1)) is None


def test_counters_are_forgotten_after_a_quiet_day(settings):
    guard = throttle.Guard("t", "c", free_failures=10)
    now = timezone.now()
    for _ in range(5):
        throttle.record_failure(guard, now=now)
    assert throttle.record_failure(guard, now=now + settings.THROTTLE_FORGET_AFTER + timedelta(seconds=1)) == 1


def test_keys_are_digests_not_identifiers():
    throttle.record_failure(throttle.Guard("login:account", "j.dupont12", free_failures=5))
    assert not ThrottleCounter.objects.filter(key__contains="dupont").exists()


def test_reset_clears_a_key():
    guard = throttle.Guard("t", "d", free_failures=0)
    throttle.record_failure(guard)
    throttle.reset(guard)
    assert throttle.wait_time([guard]) is None


def test_each_failure_sets_the_delay_of_its_count_and_the_hard_limit_locks(settings):
    """The counting statement (PostgreSQL) and the ORM's path (SQLite) set the same rows."""
    guard = throttle.Guard("t", "steps", free_failures=2, hard_limit=9)
    now = timezone.now()
    for failures in range(1, 10):
        assert throttle.admit([guard], now=now) is None
        row = ThrottleCounter.objects.get(key=guard.key)
        assert (row.failures, row.last_failure_at) == (failures, now)
        delay = throttle.delay_after(failures, 2)
        expected = now + throttle.LOCKED if failures == 9 else (now + delay if delay else None)
        assert row.blocked_until == expected
        if expected:
            assert throttle.admit([guard], now=now) == expected - now  # closed: nothing counted
            assert ThrottleCounter.objects.get(key=guard.key).failures == failures
        now += settings.THROTTLE_MAX_DELAY
    wait = throttle.admit([guard], now=now)
    assert wait is not None
    assert throttle.is_locked(wait)


def test_a_refund_gives_back_the_count_and_its_delay(settings):
    guard = throttle.Guard("t", "refund", free_failures=1)
    at = timezone.now()
    throttle.record_failure(guard, now=at)
    throttle.record_failure(guard, now=at)
    throttle.record_failure(guard, now=at)
    throttle.refund(guard)
    row = ThrottleCounter.objects.get(key=guard.key)
    # Two failures, one free: the first delay.
    assert (row.failures, row.blocked_until) == (2, at + settings.THROTTLE_BASE_DELAY)
    throttle.refund(guard)
    throttle.refund(guard)
    throttle.refund(guard)  # never below zero
    row = ThrottleCounter.objects.get(key=guard.key)
    assert (row.failures, row.blocked_until) == (0, None)


def test_settle_gives_back_some_keys_and_forgets_others_and_skips_missing_ones():
    kept = throttle.Guard("t", "kept", free_failures=5)
    forgotten = throttle.Guard("t", "forgotten", free_failures=5)
    missing = throttle.Guard("t", "missing", free_failures=5)
    assert throttle.admit([kept, forgotten]) is None
    assert throttle.admit([kept, forgotten]) is None
    throttle.settle(refund=[kept, missing], reset=[forgotten])
    assert ThrottleCounter.objects.get(key=kept.key).failures == 1
    assert not ThrottleCounter.objects.filter(key__in=[forgotten.key, missing.key]).exists()


def test_an_attempt_on_a_closed_guard_counts_on_none_of_its_guards():
    open_guard = throttle.Guard("t", "open", free_failures=50)
    closed = throttle.Guard("t", "closed", free_failures=0)
    throttle.record_failure(closed)
    assert throttle.admit([open_guard, closed]) is not None
    assert not ThrottleCounter.objects.filter(key=open_guard.key, failures__gt=0).exists()
    assert ThrottleCounter.objects.get(key=closed.key).failures == 1
