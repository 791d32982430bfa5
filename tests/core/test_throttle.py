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
