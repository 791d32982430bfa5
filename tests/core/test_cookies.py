"""The session cookie (security.md §7 check 24): __Host- over HTTPS, Secure, HttpOnly, SameSite=Lax,
Path=/, no Domain; a planted session id is worthless after login, and a logged-out one server-side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from tests.accounts.helpers import active_guardian, login
from trousseau.accounts.models import Account

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_production_settings_name_the_cookies_host_only_and_secure():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "trousseau.settings",
        "TROUSSEAU_DEBUG": "0",
        "TROUSSEAU_SECRET_KEY": "a-production-like-secret-key-for-this-test-only-0123456789",
    }
    env.pop("TROUSSEAU_SECURE_COOKIES", None)
    code = (
        "import json; from trousseau import settings as s; print(json.dumps([s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE]))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603 - our interpreter
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [
        "__Host-sessionid",
        "__Host-csrftoken",
        True,
        True,
        True,
        "Lax",
    ]


@pytest.fixture
def account() -> Account:
    return active_guardian()


def _log_in(client: Client, account: Account) -> None:
    assert login(client, account.identifier).status_code == 302


def test_the_cookie_a_login_sets_is_a_valid_host_cookie(account, settings):
    settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_SECURE = "__Host-sessionid", True
    client = Client()
    _log_in(client, account)
    cookie = client.cookies["__Host-sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["domain"] == ""  # a Domain attribute would void the __Host- prefix


def test_a_planted_session_id_is_worthless_after_login_and_a_logged_out_one_too(account):
    client = Client()
    planted = SessionStore()
    planted["planted"] = True
    planted.create()
    planted_key = str(planted.session_key)
    client.cookies["sessionid"] = planted_key
    _log_in(client, account)
    current = client.cookies["sessionid"].value
    assert current != planted_key
    assert not SessionStore().exists(planted_key)  # the key rotated: the old one is gone
    client.post("/logout")
    assert not SessionStore().exists(current)  # logging out ends it server-side, not just in the browser
    stale = Client()
    stale.cookies["sessionid"] = current
    assert stale.get("/compte/").status_code == 302
