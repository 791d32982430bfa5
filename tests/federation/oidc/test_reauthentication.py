"""prompt=login and max_age (OIDC Core §3.1.2.1), and auth_time: when the person logged in to *this*
browser session, not the account's last login anywhere."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.accounts.helpers import logged_in
from tests.federation.oidc.conftest import RP, authorize, pkce, query_of, redeem, verify
from trousseau.accounts.models import Account
from trousseau.accounts.sessions import AUTHENTICATED_AT_KEY

pytestmark = pytest.mark.django_db


def _back_from_the_mire(response) -> str:
    """The mire URL's `next`, after checking that the mire is asked to show its form."""
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/login"
    query = parse_qs(location.query)
    assert query["prompt"] == ["login"]
    return str(query["next"][0])


def _age_the_login(browser: Client, seconds: int) -> None:
    session = browser.session
    session[AUTHENTICATED_AT_KEY] = (timezone.now() - timedelta(seconds=seconds)).isoformat()
    session.save()


def test_auth_time_is_this_sessions_login_not_the_accounts_last_login(rp: RP, account: Account):
    browser = logged_in(account)
    logged_in_at = timezone.now()
    Account.objects.filter(pk=account.pk).update(last_login=logged_in_at + timedelta(hours=2))  # another device
    verifier, challenge = pkce()
    code = query_of(authorize(browser, rp, challenge=challenge)["Location"])["code"]
    _, claims = verify(redeem(rp, code, verifier).json()["id_token"])
    assert abs(claims["auth_time"] - logged_in_at.timestamp()) < 5


def test_prompt_login_shows_the_form_to_a_logged_in_browser_then_gives_a_code(rp: RP, account: Account):
    browser = logged_in(account)
    _age_the_login(browser, 3600)
    verifier, challenge = pkce()
    back = _back_from_the_mire(authorize(browser, rp, challenge=challenge, prompt="login"))
    assert "prompt" not in parse_qs(urlsplit(back).query)
    mire = browser.get("/login", {"next": back, "prompt": "login"})
    assert mire.status_code == 200
    assert 'name="password"' in mire.content.decode()
    assert browser.get("/login").status_code == 200
    assert 'name="password"' not in browser.get("/login").content.decode()  # "déjà connecté" without prompt
    logged = browser.post(
        "/login?prompt=login",
        {"identifier": account.identifier, "password": factories.GOOD_PASSWORD, "next": back},
    )
    assert logged.status_code == 302
    assert logged["Location"] == back
    code = query_of(browser.get(back)["Location"])["code"]
    _, claims = verify(redeem(rp, code, verifier).json()["id_token"])
    assert timezone.now().timestamp() - claims["auth_time"] < 5  # the new login, not the hour-old one


def test_max_age_asks_again_only_when_the_login_is_older(rp: RP, account: Account):
    browser = logged_in(account)
    fresh = authorize(browser, rp, challenge=pkce()[1], max_age="600")
    assert "code" in query_of(fresh["Location"])
    _age_the_login(browser, 601)
    back = _back_from_the_mire(authorize(browser, rp, challenge=pkce()[1], max_age="600"))
    assert "max_age" not in parse_qs(urlsplit(back).query)  # satisfied by the login it asks for


def test_max_age_zero_always_asks(rp: RP, account: Account):
    browser = logged_in(account)
    _back_from_the_mire(authorize(browser, rp, challenge=pkce()[1], max_age="0"))


def test_a_stale_login_with_prompt_none_gets_login_required(rp: RP, account: Account):
    browser = logged_in(account)
    _age_the_login(browser, 601)
    answer = query_of(authorize(browser, rp, challenge=pkce()[1], max_age="600", prompt="none")["Location"])
    assert answer["error"] == "login_required"
    assert answer["state"] == "st-123"
