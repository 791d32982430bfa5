"""Sign-in's logout registry: protocols take part by registering, and one that fails ends nothing less."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse

from tests.accounts.helpers import active_guardian, logged_in
from trousseau.accounts.models import Account
from trousseau.signin import logout

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing_participant() -> Iterator[list[str]]:
    calls: list[str] = []

    def leave(request: object, account: Account | None) -> None:
        calls.append(account.identifier if account else "")
        raise ConnectionError("the service is down")

    logout.register(logout.Participant("down", leave=leave))
    yield calls
    logout._participants.pop("down")  # the registry lives as long as the process


def test_a_participant_that_fails_does_not_keep_the_person_logged_in(failing_participant):
    account = active_guardian()
    client = logged_in(account)
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("flows:login")
    assert failing_participant == [account.identifier]
    assert client.get(reverse("accounts:home")).status_code == 302


def test_the_protocols_take_part_by_registering_from_their_app_configs():
    assert {"saml", "oidc"} <= set(logout._participants)
