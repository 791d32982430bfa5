"""Guardians of the demo académie for the browser journeys: found by how the schools recorded them, and
activated with the services, as the family did at the start of the year."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Demo, Letter
from trousseau.accounts.models import Account
from trousseau.accounts.services import account_activate, account_verify_email, current_letter


def account_of(identifier: str) -> Account:
    return Account.objects.get(identifier=identifier)


def single_record_guardian(demo: Demo) -> Letter:
    """A guardian recorded once (one letter for that mobile), so one account speaks for the mobile."""
    mobiles = [letter.phone for letter in demo.guardians]
    for letter in demo.guardians:
        if letter.phone and mobiles.count(letter.phone) == 1:
            return letter
    pytest.fail("the demo académie has no guardian recorded by a single school")


def activate(letter: Letter, *, password: str, email: str = "", verified: bool = False) -> Account:
    account = account_of(letter.identifier)
    issued = current_letter(account)
    assert issued is not None
    account = account_activate(account=account, letter_id=issued.pk, password=password, email=email)
    if verified:
        assert account_verify_email(account=account, email=email)
    return account
