"""Unit tests of each transition of the letter activation flow."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests import factories
from trousseau.accounts.exceptions import LetterBudgetSpent, PasswordRefused
from trousseau.accounts.models import AccountState, LetterStatus
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.flows.activation_by_letter import transitions as activation_by_letter
from trousseau.flows.exceptions import (
    FlowExpired,
    ForeignFlow,
    LetterNoLongerValid,
    TooManyAttempts,
    WrongBirthDate,
    WrongState,
)
from trousseau.flows.models import FlowState

pytestmark = pytest.mark.django_db
IP = "198.51.100.7"
SECRET = "browser-secret"


def started(kind: str = "guardian"):
    account, letter, _ = factories.guardian_account() if kind == "guardian" else factories.pupil_account()
    return account, activation_by_letter.start(account=account, letter=letter, browser_secret=SECRET)


def test_start_binds_the_flow_to_the_browser():
    _, flow = started()
    assert flow.state == FlowState.AWAITING_ACTIVATION
    flow.check_binding(SECRET)
    with pytest.raises(ForeignFlow):
        flow.check_binding("another-browser")
    with pytest.raises(ForeignFlow):
        flow.check_binding(None)
    assert SECRET not in flow.session_binding


def test_a_new_start_closes_the_previous_flow():
    account, flow = started()
    letter = account.letters.first()
    second = activation_by_letter.start(account=account, letter=letter, browser_secret=SECRET)
    flow.refresh_from_db()
    assert flow.state == FlowState.FAILED
    assert second.state == FlowState.AWAITING_ACTIVATION


def test_guardian_activates_with_any_childs_birth_date():
    school = factories.school()
    older = factories.pupil(school=school, birth_date=date(2010, 1, 2))
    younger = factories.pupil(school=school, birth_date=date(2013, 6, 7))
    account, letter, _ = factories.guardian_account(children=[older, younger])
    flow = activation_by_letter.start(account=account, letter=letter, browser_secret=SECRET)
    activated = activation_by_letter.submit(
        flow, password=factories.GOOD_PASSWORD, birth_date=date(2013, 6, 7), email="", ip=IP
    )
    assert activated.state == AccountState.ACTIVE
    assert activated.check_password(factories.GOOD_PASSWORD)
    letter.refresh_from_db()
    assert letter.used_at is not None
    flow.refresh_from_db()
    assert flow.state == FlowState.COMPLETED
    assert AuditEvent.objects.filter(tag=EventTag.ACTIVATION_BY_LETTER_SUCCESS, account=account).exists()
    assert mail.outbox == []


def test_pupil_activates_with_own_birth_date_and_gets_a_verification_email():
    account, flow = started("pupil")
    activated = activation_by_letter.submit(
        flow, password=factories.GOOD_PASSWORD, birth_date=account.pupil.birth_date, email="lea@example.fr", ip=IP
    )
    assert activated.email == "lea@example.fr"
    assert activated.email_verified_at is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lea@example.fr"]
    assert "/email/verifier/" in mail.outbox[0].body


def test_wrong_birth_date_counts_and_changes_nothing(settings):
    account, flow = started()
    with pytest.raises(WrongBirthDate) as exc:
        activation_by_letter.submit(
            flow, password=factories.GOOD_PASSWORD, birth_date=date(1999, 1, 1), email="", ip=IP
        )
    assert exc.value.remaining == settings.ACTIVATION_MAX_ATTEMPTS - 1
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL
    assert not account.has_usable_password()
    assert AuditEvent.objects.filter(tag=EventTag.ACTIVATION_BY_LETTER_FAILURE, account=account).count() == 1


def test_too_many_wrong_birth_dates_end_the_flow(settings):
    # The flow's own limit, below the letter's budget (tests/accounts/test_letter_budget.py).
    settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY = settings.LETTER_BIRTH_DATE_FAILURES_IN_ALL = 50
    account, flow = started()
    for _ in range(settings.ACTIVATION_MAX_ATTEMPTS - 1):
        with pytest.raises(WrongBirthDate):
            activation_by_letter.submit(
                flow, password=factories.GOOD_PASSWORD, birth_date=date(1999, 1, 1), email="", ip=IP
            )
    with pytest.raises(TooManyAttempts):
        activation_by_letter.submit(
            flow, password=factories.GOOD_PASSWORD, birth_date=date(1999, 1, 1), email="", ip=IP
        )
    flow.refresh_from_db()
    assert flow.state == FlowState.FAILED
    right = account.known_birth_dates()[0]
    with pytest.raises(WrongState):
        activation_by_letter.submit(flow, password=factories.GOOD_PASSWORD, birth_date=right, email="", ip=IP)
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL


def test_expired_flow_refuses():
    account, flow = started()
    flow.expires_at = timezone.now() - timedelta(seconds=1)
    flow.save()
    with pytest.raises(FlowExpired):
        activation_by_letter.submit(
            flow, password=factories.GOOD_PASSWORD, birth_date=account.known_birth_dates()[0], email="", ip=IP
        )


def test_completed_flow_cannot_be_replayed():
    account, flow = started()
    birth = account.known_birth_dates()[0]
    activation_by_letter.submit(flow, password=factories.GOOD_PASSWORD, birth_date=birth, email="", ip=IP)
    with pytest.raises(WrongState):
        activation_by_letter.submit(flow, password="Autre#Passe99", birth_date=birth, email="", ip=IP)
    account.refresh_from_db()
    assert account.check_password(factories.GOOD_PASSWORD)


def test_letter_expiring_during_the_flow_blocks_activation():
    account, flow = started()
    account.letters.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(LetterNoLongerValid):
        activation_by_letter.submit(
            flow, password=factories.GOOD_PASSWORD, birth_date=account.known_birth_dates()[0], email="", ip=IP
        )
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL
    flow.refresh_from_db()
    assert flow.state == FlowState.FAILED


def test_the_letters_budget_outlives_the_flow_and_a_new_login(settings):
    """Finding 2: a new flow (a new login with the letter) does not give five more dates."""
    account, flow = started()
    letter = account.letters.first()
    for _ in range(settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY - 2):
        with pytest.raises(WrongBirthDate):
            activation_by_letter.submit(
                flow, password=factories.GOOD_PASSWORD, birth_date=date(1999, 1, 1), email="", ip=IP
            )
    again = activation_by_letter.start(account=account, letter=letter, browser_secret=SECRET)
    with pytest.raises(WrongBirthDate) as exc:
        activation_by_letter.submit(
            again, password=factories.GOOD_PASSWORD, birth_date=date(1999, 1, 1), email="", ip=IP
        )
    assert exc.value.remaining == 1  # the letter's share of the day, not the new flow's five
    with pytest.raises(LetterBudgetSpent) as blocked:
        activation_by_letter.submit(
            again, password=factories.GOOD_PASSWORD, birth_date=date(1999, 1, 1), email="", ip=IP
        )
    assert blocked.value.status == LetterStatus.PAUSED
    again.refresh_from_db()
    assert again.state == FlowState.FAILED
    assert AuditEvent.objects.filter(tag=EventTag.ACTIVATION_BY_LETTER_ABANDONED, account=account).count() == 1


def test_a_spent_letter_refuses_even_the_right_date(settings):
    account, flow = started()
    account.letters.update(birth_date_failures=settings.LETTER_BIRTH_DATE_FAILURES_IN_ALL)
    with pytest.raises(LetterBudgetSpent) as blocked:
        activation_by_letter.submit(
            flow, password=factories.GOOD_PASSWORD, birth_date=account.known_birth_dates()[0], email="", ip=IP
        )
    assert blocked.value.status == LetterStatus.BLOCKED
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL
    flow.refresh_from_db()
    assert flow.state == FlowState.FAILED


def test_prove_birth_date_moves_nothing_when_right_and_counts_once_when_wrong():
    account, flow = started()
    activation_by_letter.prove_birth_date(flow, birth_date=account.known_birth_dates()[0], ip=IP)
    flow.refresh_from_db()
    assert (flow.state, flow.failed_attempts) == (FlowState.AWAITING_ACTIVATION, 0)
    with pytest.raises(WrongBirthDate):
        activation_by_letter.prove_birth_date(flow, birth_date=date(1999, 1, 1), ip=IP)
    flow.refresh_from_db()
    assert (flow.state, flow.failed_attempts) == (FlowState.AWAITING_ACTIVATION, 1)
    assert account.letters.get().birth_date_failures == 1


def test_submit_judges_the_known_birth_dates_only_once_the_date_is_proven():
    elder, younger = factories.pupil(birth_date=date(2010, 9, 1)), factories.pupil(birth_date=date(2013, 2, 3))
    account, letter, _ = factories.guardian_account(children=[elder, younger])
    flow = activation_by_letter.start(account=account, letter=letter, browser_secret=SECRET)
    with pytest.raises(PasswordRefused) as refused:
        activation_by_letter.submit(flow, password="Cartable#03022013", birth_date=date(2010, 9, 1), email="", ip=IP)
    assert refused.value.problems == ["Ne doit pas contenir de date de naissance"]
    flow.refresh_from_db()
    assert (flow.state, flow.failed_attempts) == (FlowState.AWAITING_ACTIVATION, 0)
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL
