"""Every service that sets a password judges it itself: a caller that skips the form sets no weak one."""

from __future__ import annotations

import pytest

from tests import factories
from tests.accounts.helpers import IP, active_guardian, logged_in
from trousseau.accounts.changes import password_change
from trousseau.accounts.exceptions import PasswordRefused
from trousseau.accounts.models import Account, AccountSession, AccountState
from trousseau.accounts.recovery import account_reset_password
from trousseau.accounts.self_registration import account_register_guardian
from trousseau.accounts.services import account_activate
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def weak_passwords(account: Account) -> list[tuple[str, str]]:
    """A common password, the identifier and a child's birth date, each in an otherwise valid password."""
    return [
        ("password", "trop courant"),
        (f"Ab#1{account.identifier}", "identifiant"),
        ("Cartable#14032012", "date de naissance"),  # the factories' pupil is born on 14/03/2012
    ]


def assert_refused(exc: pytest.ExceptionInfo[PasswordRefused], expected: str) -> None:
    assert any(expected in problem for problem in exc.value.problems), exc.value.problems


def test_activation_refuses_a_weak_password_and_changes_nothing():
    account, letter, _ = factories.guardian_account()
    for password, expected in weak_passwords(account):
        with pytest.raises(PasswordRefused) as exc:
            account_activate(account=account, letter_id=letter.pk, password=password, email="", ip=IP)
        assert_refused(exc, expected)
    account.refresh_from_db()
    letter.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL
    assert not account.has_usable_password()
    assert letter.used_at is None
    assert not AuditEvent.objects.filter(account=account).exclude(tag=EventTag.LETTER_ISSUED).exists()


def test_activation_refuses_the_letters_own_password():
    account, letter, provisional = factories.guardian_account()
    with pytest.raises(PasswordRefused) as exc:
        account_activate(account=account, letter_id=letter.pk, password=provisional, email="", ip=IP)
    assert exc.value.problems == ["Choisissez un mot de passe différent de celui du courrier."]
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL


def test_a_reset_refuses_a_weak_password_and_changes_nothing():
    account = active_guardian()
    logged_in(account)
    for password, expected in weak_passwords(account):
        with pytest.raises(PasswordRefused) as exc:
            account_reset_password(account=account, password=password, ip=IP)
        assert_refused(exc, expected)
    account.refresh_from_db()
    assert account.check_password(factories.GOOD_PASSWORD)
    assert AccountSession.objects.filter(account=account).count() == 1
    assert not AuditEvent.objects.filter(account=account, tag=EventTag.LOST_PASSWORD_SUCCESS).exists()
    assert not OutboxMessage.objects.exists()


def test_a_change_refuses_a_weak_password_before_judging_the_current_one():
    account = active_guardian()
    for password, expected in weak_passwords(account):
        with pytest.raises(PasswordRefused) as exc:
            password_change(account=account, current=factories.GOOD_PASSWORD, new=password, ip=IP, keep_session=None)
        assert_refused(exc, expected)
    with pytest.raises(PasswordRefused) as exc:
        password_change(
            account=account, current=factories.GOOD_PASSWORD, new=factories.GOOD_PASSWORD, ip=IP, keep_session=None
        )
    assert exc.value.problems == ["Choisissez un mot de passe différent de l'actuel."]
    account.refresh_from_db()
    assert account.check_password(factories.GOOD_PASSWORD)
    assert not AuditEvent.objects.filter(
        account=account, tag__in=[EventTag.PASSWORD_CHANGED, EventTag.PASSWORD_CHANGE_FAILURE]
    ).exists()
    assert not OutboxMessage.objects.exists()


def test_self_registration_refuses_a_weak_password_and_creates_nothing():
    guardian = factories.guardian(first_name="Sophie", last_name="Lemoine")
    weak = [
        ("password", "trop courant"),
        ("s.lemoine#Ab1", "identifiant"),
        ("Lemoine#2026", "nom ou prénom"),
        ("Lea#Lea1403", "nom ou prénom"),  # the child's first name counts too
        ("Cartable#14032012", "date de naissance"),
    ]
    for password, expected in weak:
        with pytest.raises(PasswordRefused) as exc:
            account_register_guardian(guardian_ids=[guardian.pk], identifier="s.lemoine", password=password, ip=IP)
        assert_refused(exc, expected)
    assert not Account.objects.exists()
    assert not AuditEvent.objects.filter(tag=EventTag.SELF_REGISTRATION_SUCCESS).exists()


def test_self_registration_leaves_a_provisional_account_as_it_was():
    account, letter, _ = factories.guardian_account()
    guardian_ids = list(account.guardian_links.values_list("guardian_id", flat=True))
    with pytest.raises(PasswordRefused):
        account_register_guardian(guardian_ids=guardian_ids, identifier=account.identifier, password="password", ip=IP)
    account.refresh_from_db()
    letter.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL
    assert letter.revoked_at is None
