"""The back channel (token, userinfo, key set, discovery) answered without the browser's middleware
(trousseau/core/back_channel.py): the same answers, their security headers kept, no session touched."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.federation.oidc.conftest import JWKS, RP, USERINFO, code_for, pkce, redeem, tokens

pytestmark = pytest.mark.django_db


def _security_headers(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Request-ID"]


def test_a_token_request_keeps_its_security_headers_and_sets_no_cookie(browser: Client, rp: RP):
    verifier, challenge = pkce()
    response = redeem(rp, code_for(browser, rp, challenge), verifier)
    assert response.status_code == 200
    _security_headers(response)
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies  # no session, no CSRF cookie, no language cookie
    assert "Cookie" not in response.get("Vary", "")


def test_userinfo_does_not_load_the_browser_session_its_caller_sends(browser: Client, rp: RP):
    access = tokens(browser, rp)["access_token"]
    # A client that (wrongly) forwards the browser's cookies: the session is not read, the token decides.
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(USERINFO, headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 200
    assert response.json()["sub"]
    assert not [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]
    assert not response.cookies
    _security_headers(response)


def test_userinfo_without_a_token_is_refused_as_before(rp: RP):
    response = Client().get(USERINFO)
    assert response.status_code == 401
    assert "Bearer" in response["WWW-Authenticate"]


def test_a_back_channel_request_for_an_unknown_host_is_refused():
    response = Client().get(JWKS, headers={"Host": "attacker.example"})
    assert response.status_code == 400


def test_the_key_set_and_discovery_answer_on_the_back_channel():
    keys = Client().get(JWKS)
    assert keys.status_code == 200
    assert keys.json()["keys"]
    discovery = Client().get("/.well-known/openid-configuration")
    assert discovery.status_code == 200
    assert discovery.json()["userinfo_endpoint"].endswith(USERINFO)


def test_browser_pages_still_get_the_whole_stack():
    page = Client().get("/login")
    assert page.status_code == 200
    assert "Content-Security-Policy" in page
    assert page["X-Frame-Options"] == "DENY"
    assert page.cookies  # the CSRF cookie of the form
