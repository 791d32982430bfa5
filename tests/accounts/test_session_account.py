"""A logged-in request reads its session and its account by one statement (accounts/backends.py,
core/session_store.py's companion), and takes that account only when it is the one the session names."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.accounts.helpers import active_guardian, logged_in
from trousseau.accounts.models import Account, AccountSession, AccountState

pytestmark = pytest.mark.django_db
ACCOUNT_LOOKUP = 'FROM "accounts_account" WHERE ("accounts_account"."id" ='
PAGE = "/compte/"


def test_a_logged_in_request_reads_its_account_with_its_session():
    account = active_guardian()
    browser = logged_in(account)
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(PAGE)
    assert response.status_code == 200
    statements = [query["sql"] for query in captured.captured_queries]
    assert "django_session" in statements[0]
    assert '"accounts_account"' in statements[0]
    assert not [sql for sql in statements if ACCOUNT_LOOKUP in sql], statements
    user = response.wsgi_request.user
    stored = Account.objects.get(pk=account.pk)
    # The joined row is the account as the ORM reads it, field by field (converters and all).
    assert {f.attname: getattr(user, f.attname) for f in Account._meta.concrete_fields} == {
        f.attname: getattr(stored, f.attname) for f in Account._meta.concrete_fields
    }


def test_a_session_listed_under_another_account_still_opens_only_its_own():
    """The session's own account decides (Django then checks its hash): a listing row that names another
    account, whatever put it there, lends nothing."""
    account, other = active_guardian(), active_guardian()
    browser = logged_in(account)
    AccountSession.objects.filter(session_key=browser.session.session_key).update(account=other)
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(PAGE)
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == account.pk
    assert [sql for sql in (query["sql"] for query in captured.captured_queries) if ACCOUNT_LOOKUP in sql]


def test_a_disabled_account_loses_its_session_as_before():
    account = active_guardian()
    browser = logged_in(account)
    Account.objects.filter(pk=account.pk).update(state=AccountState.DISABLED)
    response = browser.get(PAGE)
    assert response.status_code == 302
    assert not response.wsgi_request.user.is_authenticated
