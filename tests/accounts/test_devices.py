"""Device cookies (OWASP): a browser that logged in to an account keeps its own budget for it
(issue #15 finding 7)."""

from __future__ import annotations

import pytest
from django.core import signing
from django.test import Client

from tests import factories
from tests.accounts.helpers import IP, active_guardian, login
from trousseau.accounts import authentication as auth
from trousseau.accounts import devices
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core import throttle
from trousseau.core.models import ThrottleCounter
from trousseau.core.refusals import Throttled

pytestmark = pytest.mark.django_db
ELSEWHERE = "203.0.113.9"


def test_a_cookie_names_the_account_by_a_digest_and_gives_a_fresh_nonce_each_time():
    first = devices.remembered("", "j.dupont12")
    assert "j.dupont12" not in signing.loads(first, salt=devices.SALT)[0][0]
    nonce = devices.device_nonce(first, "j.dupont12")
    assert nonce is not None
    assert devices.device_nonce(first, "m.martin3") is None
    again = devices.remembered(first, "j.dupont12")
    assert devices.device_nonce(again, "j.dupont12") not in {None, nonce}


def test_a_family_device_remembers_a_few_accounts_the_newest_first():
    cookie = ""
    names = [f"eleve.{n}" for n in range(devices.ACCOUNTS_PER_DEVICE + 1)]
    for name in names:
        cookie = devices.remembered(cookie, name)
    assert devices.device_nonce(cookie, names[0]) is None  # the oldest went
    assert all(devices.device_nonce(cookie, name) for name in names[1:])


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        signing.dumps([["x", "y"]], salt="another.salt"),
        signing.dumps({"not": "a list"}, salt=devices.SALT),
        signing.dumps(["not a pair", ["a", "b", "c"]], salt=devices.SALT),
    ],
    ids=["garbage", "another-salt", "not-a-list", "not-pairs"],  # signed values carry a timestamp: the
    # same ids on every xdist worker, or the workers disagree on what was collected
)
def test_a_cookie_this_service_did_not_sign_names_nobody(cookie):
    assert devices.device_nonce(cookie, "j.dupont12") is None
    assert devices.device_nonce(devices.remembered(cookie, "j.dupont12"), "j.dupont12")


def test_an_expired_cookie_names_nobody(settings):
    cookie = devices.remembered("", "j.dupont12")
    settings.DEVICE_COOKIE_AGE = -settings.DEVICE_COOKIE_AGE
    assert devices.device_nonce(cookie, "j.dupont12") is None


def _fail_until_throttled(identifier: str, *, ip: str, device_cookie: str = "") -> None:
    for n in range(10):
        outcome = auth.authenticate(identifier=identifier, password=f"Devine#{n}x", ip=ip, device_cookie=device_cookie)
        if isinstance(outcome, Throttled):
            return
    raise AssertionError("never throttled")


def test_a_device_logs_in_while_strangers_are_throttled_and_its_failures_are_its_own():
    account = active_guardian()
    cookie = devices.remembered("", account.identifier)
    _fail_until_throttled(account.identifier, ip=IP)
    right = auth.authenticate(
        identifier=account.identifier, password=factories.GOOD_PASSWORD, ip=IP, device_cookie=cookie
    )
    assert right == auth.LoggedIn(account)
    assert AuditEvent.objects.filter(tag=EventTag.LOGIN_SUCCESS, account=account, data__device=True).exists()
    # The device's own budget: its failures slow it, and only it.
    cookie = devices.remembered(cookie, account.identifier)
    _fail_until_throttled(account.identifier, ip=ELSEWHERE, device_cookie=cookie)
    assert isinstance(
        auth.authenticate(identifier=account.identifier, password=factories.GOOD_PASSWORD, ip=ELSEWHERE),
        auth.LoggedIn,
    )


def test_a_device_at_its_hard_limit_is_a_stranger_again(settings):
    settings.THROTTLE_ACCOUNT_HARD_LIMIT = 3
    settings.THROTTLE_ACCOUNT_FREE_FAILURES = 10
    account = active_guardian()
    cookie = devices.remembered("", account.identifier)
    guard = auth.device_guard(devices.device_nonce(cookie, account.identifier) or "")
    for n in range(3):
        auth.authenticate(identifier=account.identifier, password=f"Devine#{n}x", ip=IP, device_cookie=cookie)
    wait = throttle.wait_time([guard])
    assert wait is not None
    assert throttle.is_locked(wait)
    # Now counted against the identifier's guards, as any browser.
    auth.authenticate(identifier=account.identifier, password="Devine#9x", ip=IP, device_cookie=cookie)
    assert ThrottleCounter.objects.get(key=auth.login_guards(account.identifier, IP)[0].key).failures == 1


def test_a_strangers_failures_are_counted_on_the_identifier_from_that_address_not_elsewhere():
    account = active_guardian()
    _fail_until_throttled(account.identifier, ip=IP)
    assert isinstance(auth.authenticate(identifier=account.identifier, password="x", ip=IP), Throttled)
    assert isinstance(
        auth.authenticate(identifier=account.identifier, password=factories.GOOD_PASSWORD, ip=ELSEWHERE),
        auth.LoggedIn,
    )


def test_the_mire_gives_a_device_cookie_only_to_a_successful_login():
    account = active_guardian()
    client = Client()
    login(client, account.identifier, "Devine#1x")
    assert devices.cookie_name() not in client.cookies
    assert login(client, account.identifier).status_code == 302
    given = client.cookies[devices.cookie_name()]
    assert given["httponly"]
    assert given["samesite"] == "Lax"
    assert given["path"] == "/"
    assert devices.device_nonce(given.value, account.identifier)
