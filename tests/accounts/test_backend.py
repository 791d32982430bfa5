"""The session's account, loaded by one prepared statement, is the account the ORM loads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from tests import factories
from trousseau.accounts.backends import AccountBackend
from trousseau.accounts.models import Account, AccountState

pytestmark = pytest.mark.django_db


def _active() -> Account:
    account, _letter, _password = factories.guardian_account()
    Account.objects.filter(pk=account.pk).update(state=AccountState.ACTIVE)
    return account


def test_the_loaded_account_is_the_orms_to_the_last_field() -> None:
    account = _active()
    moment = datetime(2026, 9, 1, 7, 45, 12, 345678, tzinfo=UTC)
    Account.objects.filter(pk=account.pk).update(
        last_login=moment,
        email_verified_at=moment,
        phone_verified_at=moment,
        activated_at=moment,
        franceconnect_sub="sub-123",
        email="parent@exemple.fr",
        phone="+33612345678",
    )
    with CaptureQueriesContext(connection) as captured:
        loaded = AccountBackend().get_user(account.pk)
    assert len(captured) == 1
    expected = Account.objects.get(pk=account.pk)
    assert isinstance(loaded, Account)
    fields = [field.attname for field in Account._meta.concrete_fields]
    assert {name: getattr(loaded, name) for name in fields} == {name: getattr(expected, name) for name in fields}
    assert loaded.last_login == moment
    assert loaded.last_login.tzinfo is not None
    assert loaded._state.db == "default"
    assert not loaded._state.adding
    assert model_to_dict(loaded) == model_to_dict(expected)


@pytest.mark.parametrize("state", [AccountState.DISABLED, AccountState.PROVISIONAL])
def test_an_account_no_longer_active_loads_as_nobody(state: AccountState) -> None:
    account = _active()
    Account.objects.filter(pk=account.pk).update(state=state)
    assert AccountBackend().get_user(account.pk) is None


def test_an_unknown_account_loads_as_nobody() -> None:
    assert AccountBackend().get_user(10**9) is None
