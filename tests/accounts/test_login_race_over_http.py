"""The login race walked over HTTP: fifty wrong passwords posted to the mire at once, through a live
server answering them on concurrent threads, each with its own database connection (PostgreSQL).

tests/accounts/test_login_race.py holds the same attack at `authenticate`; this one goes through the
whole request (CSRF, the view, the throttle's one statement on PostgreSQL) as an attacker would send it.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest
from django.db import connection

from tests import factories
from trousseau.accounts import authentication as auth
from trousseau.accounts.models import AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core.models import ThrottleCounter

GUESSES = 50
ALLOWANCE = 5
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is an answer here, not a step


def _mire(base: str) -> tuple[urllib.request.OpenerDirector, str]:
    """A browser that has opened the mire: its cookies, and the form's CSRF token."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect())
    with opener.open(f"{base}/login", timeout=30) as page:
        found = CSRF_FIELD.search(page.read().decode())
    assert found is not None
    return opener, found.group(1)


def _post(opener: urllib.request.OpenerDirector, base: str, token: str, identifier: str, password: str) -> int:
    form = urlencode({"csrfmiddlewaretoken": token, "identifier": identifier, "password": password}).encode()
    request = urllib.request.Request(f"{base}/login", data=form, headers={"Referer": f"{base}/login"})  # noqa: S310 - the live server's http URL
    try:
        with opener.open(request, timeout=60) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_wrong_passwords_over_http_are_compared_at_most_the_allowance_plus_one(live_server, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs a server database")
    settings.THROTTLE_ACCOUNT_FREE_FAILURES = ALLOWANCE
    account, _, _ = factories.guardian_account()
    account.set_password(factories.GOOD_PASSWORD)
    account.state = AccountState.ACTIVE
    account.save()
    base = live_server.url
    opener, token = _mire(base)

    def guess(n: int) -> int:
        return _post(opener, base, token, account.identifier, f"Wrong#{n:04d}a")

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(guess, range(GUESSES)))
    assert all(status != 302 for status in statuses), statuses
    compared = AuditEvent.objects.filter(tag=EventTag.LOGIN_FAILURE, account=account).count()
    refused = AuditEvent.objects.filter(tag=EventTag.LOGIN_THROTTLED).count()
    assert 1 <= compared <= ALLOWANCE + 1, compared
    assert compared + refused == GUESSES  # every guess answered, each one way
    # Every compared guess counted on the identifier, none lost and none left over from the refused.
    row = ThrottleCounter.objects.get(key=auth.login_guards(account.identifier, "127.0.0.1")[0].key)
    assert row.failures == compared
    # The right password while the guard is closed opens nothing.
    assert _post(opener, base, token, account.identifier, factories.GOOD_PASSWORD) != 302
    assert not AuditEvent.objects.filter(tag=EventTag.LOGIN_SUCCESS, account=account).exists()
