"""Redis lost during traffic (security.md §7 check 38): no request fails, no guard weakens.

Sessions, throttles and codes live in the database, so a cache pointed at a port where nothing listens
changes nothing they enforce; what the cache only speeds up (import progress, FranceConnect keys)
is done without it.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.accounts.helpers import active_guardian, logged_in, login

pytestmark = pytest.mark.django_db


def test_logins_and_sessions_work_and_the_throttle_still_counts(lost_cache, settings):
    account = active_guardian()
    browser = logged_in(account)
    assert browser.get(reverse("accounts:home")).status_code == 200
    settings.THROTTLE_ACCOUNT_FREE_FAILURES = 2
    attacker = Client()
    answers = [login(attacker, account.identifier, "Mauvais1!").status_code for _ in range(5)]
    # As with a cache (tests/accounts): the free failures, the one that starts the delay, then refusals.
    assert answers == [200, 200, 200, 429, 429]
