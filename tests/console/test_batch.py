"""Batch actions (services/batch.py): what the plan says is what apply does, all or nothing, audited once."""

import csv
import io

import pytest
from django.contrib.auth.hashers import check_password

from tests import factories
from tests.accounts.helpers import logged_in
from tests.console import helpers
from trousseau.accounts.models import AccountSession, AccountState, ActivationLetter
from trousseau.audit.events import EventTag
from trousseau.console.models import StaffRole
from trousseau.console.scoping import ReadOnly
from trousseau.console.services import actions, batch
from trousseau.console.services.batch import BatchAction, BatchRefused

pytestmark = pytest.mark.django_db


@pytest.fixture
def school():
    return factories.school(uai="0145678B")


@pytest.fixture
def member(school):
    return helpers.staff(StaffRole.SECRETARIAT, school=school)


def _live_letter(account):
    return ActivationLetter.objects.get(account=account, revoked_at=None)


def test_the_plan_says_which_accounts_are_acted_on_which_are_left_and_which_letters_are_voided(school):
    waiting = helpers.family(school, last_name="Arnaud")
    active = helpers.activate(helpers.family(school, last_name="Bernard").guardian_account)
    disabled = helpers.family(school, last_name="Colin").pupil_account
    disabled.state = AccountState.DISABLED
    disabled.save()
    ids = [waiting.pupil_account.pk, waiting.guardian_account.pk, active.pk, disabled.pk]

    reprint = batch.plan(school, BatchAction.REPRINT, ids)
    assert {a.pk for a in reprint.accounts} == {waiting.pupil_account.pk, waiting.guardian_account.pk}
    assert {left.account.pk for left in reprint.left} == {active.pk, disabled.pk}
    assert {a.pk for a in reprint.voided} == {waiting.pupil_account.pk, waiting.guardian_account.pk}

    reset = batch.plan(school, BatchAction.RESET, ids)
    assert {a.pk for a in reset.accounts} == {waiting.pupil_account.pk, waiting.guardian_account.pk, active.pk}
    assert [str(left.reason) for left in reset.left] == ["désactivé : réactivez-le d'abord"]

    disable = batch.plan(school, BatchAction.DISABLE, ids)
    assert {left.account.pk for left in disable.left} == {disabled.pk}
    assert disable.voided == []  # a disable keeps the letters


def test_the_plan_refuses_an_empty_a_too_large_and_a_foreign_selection(school):
    other = helpers.family(factories.school(), last_name="Ailleurs")
    mine = helpers.family(school)
    with pytest.raises(BatchRefused, match="Cochez au moins un compte"):
        batch.plan(school, BatchAction.RESET, [])
    with pytest.raises(BatchRefused, match="porte sur 200 comptes au plus"):
        batch.plan(school, BatchAction.RESET, range(1, batch.BATCH_LIMIT + 2))
    with pytest.raises(BatchRefused, match="ne sont pas ceux de cet établissement"):
        batch.plan(school, BatchAction.RESET, [mine.pupil_account.pk, other.pupil_account.pk])


def test_a_reprint_gives_each_waiting_account_a_new_letter_and_audits_the_batch_once(school, member):
    a, b = helpers.family(school, last_name="Arnaud"), helpers.family(school, last_name="Bernard")
    accounts = [a.pupil_account, a.guardian_account, b.guardian_account]
    old = {acc.pk: _live_letter(acc).pk for acc in accounts}
    todo = batch.plan(school, BatchAction.REPRINT, [acc.pk for acc in accounts])

    result = batch.apply(
        staff=member, school=school, action=BatchAction.REPRINT, ids=todo.ids, confirmed=todo.ids, ip="192.0.2.1"
    )

    assert result.payload.startswith(b"%PDF")
    for acc in accounts:
        assert _live_letter(acc).pk != old[acc.pk]
        assert ActivationLetter.objects.get(pk=old[acc.pk]).revoked_at is not None
    [event] = helpers.events(EventTag.CONSOLE_BATCH_APPLIED, staff=member.pk, school=school.uai)
    assert event.data["action"] == "reprint"
    assert event.data["count"] == 3
    assert sorted(event.data["accounts"]) == sorted(acc.identifier for acc in accounts)
    assert event.data["voided"] == 3
    [printed] = helpers.events(EventTag.CONSOLE_LETTERS_PRINTED, staff=member.pk, scope="batch")
    assert printed.data["count"] == 3


def test_an_export_is_one_csv_row_per_account_with_a_password_that_opens_its_letter(school, member):
    family = helpers.family(school)
    ids = [family.pupil_account.pk, family.guardian_account.pk]
    result = batch.apply(staff=member, school=school, action=BatchAction.EXPORT, ids=ids, confirmed=ids)
    rows = list(csv.DictReader(io.StringIO(result.payload.decode("utf-8-sig")), delimiter=";"))
    assert {row["identifiant"] for row in rows} == {family.pupil_account.identifier, family.guardian_account.identifier}
    for row in rows:
        letter = ActivationLetter.objects.get(account__identifier=row["identifiant"], revoked_at=None)
        assert check_password(row["mot_de_passe_provisoire"], letter.password_hash)
    assert helpers.events(EventTag.CONSOLE_LETTERS_EXPORTED, staff=member.pk, scope="batch")


def test_a_reset_signs_the_families_out_and_each_reads_it_in_its_history(school, member):
    one = helpers.activate(helpers.family(school, last_name="Arnaud").guardian_account)
    two = helpers.activate(helpers.family(school, last_name="Bernard").guardian_account)
    logged_in(one)
    ids = [one.pk, two.pk]
    result = batch.apply(staff=member, school=school, action=BatchAction.RESET, ids=ids, confirmed=ids)
    assert result.payload.startswith(b"%PDF")
    for account in (one, two):
        account.refresh_from_db()
        assert account.state == AccountState.PROVISIONAL
        assert not account.has_usable_password()
        assert helpers.events(EventTag.CONSOLE_ACCOUNT_RESET, staff=member.pk)
    assert not AccountSession.objects.filter(account=one).exists()
    assert {e.account_id for e in helpers.events(EventTag.CONSOLE_ACCOUNT_RESET)} == {one.pk, two.pk}
    assert len(helpers.events(EventTag.CONSOLE_BATCH_APPLIED, action="reset")) == 1


def test_a_disable_disables_every_account_and_keeps_their_letters(school, member):
    family = helpers.family(school)
    ids = [family.pupil_account.pk, family.guardian_account.pk]
    letters_before = set(ActivationLetter.objects.filter(revoked_at=None).values_list("pk", flat=True))
    result = batch.apply(staff=member, school=school, action=BatchAction.DISABLE, ids=ids, confirmed=ids)
    assert result.payload == b""
    assert set(ActivationLetter.objects.filter(revoked_at=None).values_list("pk", flat=True)) == letters_before
    family.pupil_account.refresh_from_db()
    family.guardian_account.refresh_from_db()
    assert family.pupil_account.state == family.guardian_account.state == AccountState.DISABLED


def test_a_selection_that_changed_since_the_confirmation_changes_nothing(school, member):
    family = helpers.family(school)
    ids = [family.pupil_account.pk, family.guardian_account.pk]
    confirmed = batch.plan(school, BatchAction.REPRINT, ids).ids
    helpers.activate(family.guardian_account)  # meanwhile, the parent activated
    before = set(ActivationLetter.objects.values_list("pk", "revoked_at"))
    with pytest.raises(BatchRefused, match="ont changé depuis la confirmation"):
        batch.apply(staff=member, school=school, action=BatchAction.REPRINT, ids=ids, confirmed=confirmed)
    assert set(ActivationLetter.objects.values_list("pk", "revoked_at")) == before
    assert not helpers.events(EventTag.CONSOLE_BATCH_APPLIED)


def test_one_refusal_rolls_the_whole_batch_back(school, member, monkeypatch):
    a, b = helpers.family(school, last_name="Arnaud"), helpers.family(school, last_name="Bernard")
    ids = [a.guardian_account.pk, b.guardian_account.pk]
    real = actions.account_disable
    calls = []

    def second_refused(**kw):
        calls.append(kw["account"].pk)
        if len(calls) == 2:
            raise actions.ActionRefused("Ce compte est déjà désactivé.")
        return real(**kw)

    monkeypatch.setattr(actions, "account_disable", second_refused)
    with pytest.raises(BatchRefused, match="déjà désactivé"):
        batch.apply(staff=member, school=school, action=BatchAction.DISABLE, ids=ids, confirmed=ids)
    assert len(calls) == 2
    a.guardian_account.refresh_from_db()
    b.guardian_account.refresh_from_db()
    assert a.guardian_account.state == b.guardian_account.state == AccountState.PROVISIONAL
    assert not helpers.events(EventTag.CONSOLE_ACCOUNT_DISABLED)


def test_nothing_to_do_is_refused(school, member):
    account = helpers.activate(helpers.family(school).guardian_account)
    with pytest.raises(BatchRefused, match="Aucun des comptes cochés"):
        batch.apply(staff=member, school=school, action=BatchAction.REPRINT, ids=[account.pk], confirmed=[])


def test_a_reader_cannot_apply(school):
    reader = helpers.staff(StaffRole.READONLY, school=school)
    family = helpers.family(school)
    ids = [family.pupil_account.pk]
    with pytest.raises(ReadOnly):
        batch.apply(staff=reader, school=school, action=BatchAction.DISABLE, ids=ids, confirmed=ids)
    family.pupil_account.refresh_from_db()
    assert family.pupil_account.state == AccountState.PROVISIONAL
