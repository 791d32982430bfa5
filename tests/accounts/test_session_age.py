"""A login ends SESSION_ABSOLUTE_AGE after it happened, however busy the browser (check 25)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.accounts.helpers import active_guardian, logged_in
from tests.federation.oidc.conftest import authorize, pkce, register
from trousseau.accounts.models import AccountSession
from trousseau.accounts.sessions import AUTHENTICATED_AT_KEY
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return active_guardian()


@pytest.fixture
def browser(account) -> Client:
    return logged_in(account)


def _logged_in(browser: Client, hours_ago: float) -> None:
    session = browser.session
    session[AUTHENTICATED_AT_KEY] = (timezone.now() - timedelta(hours=hours_ago)).isoformat()
    session.save()


def test_a_login_younger_than_the_limit_goes_on(browser, settings):
    settings.SESSION_ABSOLUTE_AGE = timedelta(hours=12)
    _logged_in(browser, 11.9)
    assert browser.get("/compte/").status_code == 200


def test_a_login_older_than_the_limit_is_ended_and_audited(browser, account, settings):
    settings.SESSION_ABSOLUTE_AGE = timedelta(hours=12)
    _logged_in(browser, 12.1)
    answer = browser.get("/compte/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/login")
    assert not AccountSession.objects.filter(account=account).exists()
    assert AuditEvent.objects.filter(tag=EventTag.SESSION_EXPIRED, account=account).count() == 1
    assert browser.get("/compte/").status_code == 302  # and stays ended


def test_single_sign_on_stops_answering_silently_after_the_limit(browser, settings):
    settings.SESSION_ABSOLUTE_AGE = timedelta(hours=12)
    rp = register()
    assert "code=" in authorize(browser, rp, challenge=pkce()[1])["Location"]
    _logged_in(browser, 13)
    answer = authorize(browser, rp, challenge=pkce()[1])
    assert answer["Location"].startswith("/login?next=")
    silent = authorize(browser, rp, challenge=pkce()[1], prompt="none")
    assert "error=login_required" in silent["Location"]
