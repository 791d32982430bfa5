"""Active accounts and logged-in browsers for the account-page tests."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from trousseau.accounts.models import Account, AccountState

IP = "198.51.100.7"


def activate(account: Account, password: str = factories.GOOD_PASSWORD) -> Account:
    account.set_password(password)
    account.state = AccountState.ACTIVE
    account.activated_at = timezone.now()
    account.save()
    account.letters.update(used_at=timezone.now())
    return account


def active_guardian(password: str = factories.GOOD_PASSWORD, **kw: Any) -> Account:
    return activate(factories.guardian_account(**kw)[0], password)


def active_pupil(password: str = factories.GOOD_PASSWORD, **kw: Any) -> Account:
    return activate(factories.pupil_account(**kw)[0], password)


def login(client: Client, identifier: str, password: str = factories.GOOD_PASSWORD):
    return client.post(reverse("flows:login"), {"identifier": identifier, "password": password})


def logged_in(account: Account, password: str = factories.GOOD_PASSWORD, **client_kw: Any) -> Client:
    """A browser with a session opened through the mire (so it is listed and audited)."""
    client = Client(**client_kw)
    response = login(client, account.identifier, password)
    assert response.status_code == 302, response.text
    return client
