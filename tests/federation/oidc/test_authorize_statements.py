"""The usual authorization request in two statements: the session's with its account (`request.user`,
checked by Django against the session; accounts/backends.py), then the code's row and its audit event in
one (code_rows.record)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import HASH_SESSION_KEY
from django.db import connection
from django.db.models.signals import post_save
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.accounts.helpers import logged_in
from tests.federation.oidc.conftest import RP, authorize, pkce, query_of
from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation.oidc.models import Authorization
from trousseau.federation.oidc.services import SID_KEY

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'")


def _to_the_mire(response) -> bool:
    return bool(response.status_code == 302 and urlsplit(response["Location"]).path == "/login")


@postgresql_only
def test_the_usual_request_is_the_session_with_its_account_and_one_for_the_code(rp: RP, account: Account):
    authorize(logged_in(account), rp, challenge=pkce()[1])  # the process reads the client, then keeps it
    browser = logged_in(account)  # through the mire: a session as a login leaves it
    with CaptureQueriesContext(connection) as captured:
        response = authorize(browser, rp, challenge=pkce()[1])
    assert "code" in query_of(response["Location"])
    statements = [query["sql"] for query in captured.captured_queries]
    assert len(statements) == 2, "\n".join(statements)
    assert "django_session" in statements[0]
    assert '"accounts_account"' in statements[0]
    assert 'INSERT INTO "oidc_authorization"' in statements[1]
    assert 'INSERT INTO "accounts_auditevent"' in statements[1]
    # The session is not written again: its sid was drawn at the login (services.sid_at_login).


def test_a_login_draws_the_sessions_sid_which_its_codes_carry(rp: RP, account: Account):
    browser = logged_in(account)
    sid = browser.session[SID_KEY]
    response = authorize(browser, rp, challenge=pkce()[1])
    assert "code" in query_of(response["Location"])
    assert Authorization.objects.get().sid == sid == browser.session[SID_KEY]
    again = logged_in(account)
    assert again.session[SID_KEY] != sid  # each login session its own


def test_a_password_changed_elsewhere_logs_the_browser_out(browser: Client, rp: RP, account: Account):
    account.set_password(factories.GOOD_PASSWORD + "2")
    account.save()
    response = authorize(browser, rp, challenge=pkce()[1])
    assert _to_the_mire(response)
    assert not Authorization.objects.exists()
    assert not AuditEvent.objects.filter(tag=EventTag.OIDC_CODE_ISSUED).exists()
    assert HASH_SESSION_KEY not in browser.session  # flushed, as Django's get_user does


def test_a_deleted_account_gets_no_code(browser: Client, rp: RP, account: Account):
    Account.objects.filter(pk=account.pk).delete()
    assert _to_the_mire(authorize(browser, rp, challenge=pkce()[1]))
    assert not Authorization.objects.exists()


def test_a_session_hash_made_with_a_previous_secret_key_is_renewed(browser: Client, rp: RP, settings):
    old = browser.session[HASH_SESSION_KEY]
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    response = authorize(browser, rp, challenge=pkce()[1])
    assert "code" in parse_qs(urlsplit(response["Location"]).query)
    assert browser.session[HASH_SESSION_KEY] != old  # renewed by Django's get_user, as before
    assert Authorization.objects.count() == 1


def test_the_code_issued_event_is_signalled_as_the_orm_does(browser: Client, rp: RP):
    seen: list[tuple[str, bool]] = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.tag, created))
        assert instance.pk is not None

    post_save.connect(receiver, sender=AuditEvent, dispatch_uid="test-code-issued")
    try:
        authorize(browser, rp, challenge=pkce()[1])
    finally:
        post_save.disconnect(dispatch_uid="test-code-issued", sender=AuditEvent)
    assert seen == [(EventTag.OIDC_CODE_ISSUED, True)]
