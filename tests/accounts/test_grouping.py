"""Grouping ("Ajouter des élèves depuis un autre compte"): the service and the mire afterwards."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.accounts.helpers import IP, active_guardian, active_pupil, logged_in
from trousseau.accounts import authentication as auth
from trousseau.accounts import grouping
from trousseau.accounts.models import AccountSession, AccountState, LetterStatus
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core.refusals import Throttled, WrongCredentials

pytestmark = pytest.mark.django_db
OTHER = "Autre#Compte2024"
CHILD_BORN = date(2012, 3, 14)  # the factories' pupils: what a letter's holder answers (finding 6)


def keeper(**kw):
    child = factories.pupil(first_name="Zoé")
    return active_guardian(children=[child], first_name="Sophie", last_name="Dupont", **kw)


def group(keep, identifier, password, birth_date=CHILD_BORN):
    return grouping.account_group(keep=keep, identifier=identifier, password=password, ip=IP, birth_date=birth_date)


def test_a_letter_password_groups_the_provisional_account():
    keep = keeper()
    other, letter, password = factories.guardian_account(
        children=[factories.pupil(first_name="Hugo")], first_name="SOPHIE", last_name="dupont"
    )
    outcome = group(keep, other.identifier, password)
    assert outcome == grouping.Grouped(absorbed_identifier=other.identifier, children_added=1)
    assert sorted(p.first_name for p in keep.pupils()) == ["Hugo", "Zoé"]
    other.refresh_from_db()
    letter.refresh_from_db()
    assert other.state == AccountState.DISABLED
    assert other.merged_into == keep
    assert letter.revoked_at is not None
    assert AuditEvent.objects.filter(tag=EventTag.ACCOUNT_MERGED, account=keep).exists()
    assert AuditEvent.objects.filter(tag=EventTag.ACCOUNT_CLOSED_BY_MERGE, account=other).exists()


def test_an_active_account_password_groups_it_and_ends_its_sessions():
    keep = keeper()
    other = active_guardian(OTHER, first_name="Sophie", last_name="Dupont")
    logged_in(other, OTHER)
    assert AccountSession.objects.filter(account=other).exists()
    assert isinstance(group(keep, other.identifier, OTHER), grouping.Grouped)
    assert not AccountSession.objects.filter(account=other).exists()
    other.refresh_from_db()
    assert other.merged_into == keep


def test_names_are_compared_folded():
    keep = active_guardian(first_name="Élodie-Marie", last_name="N'Diaye")
    other, _, password = factories.guardian_account(first_name="elodie marie", last_name="NDIAYE")
    assert isinstance(group(keep, other.identifier, password), grouping.Grouped)


def test_unknown_identifier_and_wrong_password_get_the_same_refusal():
    keep = keeper()
    other, _, _ = factories.guardian_account(first_name="Sophie", last_name="Dupont")
    assert group(keep, "nobody.here99", "Whatever#123") == WrongCredentials()
    assert group(keep, other.identifier, "Whatever#123") == WrongCredentials()
    other.refresh_from_db()
    assert other.state == AccountState.PROVISIONAL
    # A login check: the failures count and are audited like the mire's.
    assert AuditEvent.objects.filter(tag=EventTag.LOGIN_FAILURE).count() == 2
    assert AuditEvent.objects.filter(tag=EventTag.GROUPING_REFUSED, account=keep).count() == 2


def test_the_login_throttle_applies():
    keep = keeper()
    other, _, password = factories.guardian_account(first_name="Sophie", last_name="Dupont")
    while not isinstance(group(keep, other.identifier, "Whatever#123"), Throttled):
        pass
    assert isinstance(group(keep, other.identifier, password), Throttled)
    assert keep.pupils().count() == 1


def test_names_that_differ_are_refused_only_after_the_right_password():
    keep = keeper()
    other, _, password = factories.guardian_account(first_name="Marc", last_name="Dupont")
    assert group(keep, other.identifier, "Whatever#123") == WrongCredentials()
    assert group(keep, other.identifier, password) == grouping.NamesDiffer()
    other.refresh_from_db()
    assert other.state == AccountState.PROVISIONAL
    assert keep.pupils().count() == 1


def test_the_same_account_is_refused_without_checking_a_password():
    keep = keeper()
    assert group(keep, keep.identifier.upper(), "anything") == grouping.SameAccount()
    assert not AuditEvent.objects.filter(tag__startswith="account:login").exists()


def test_a_pupil_account_cannot_be_grouped_nor_group():
    keep = keeper()
    pupil, _, password = factories.pupil_account(first_name="Sophie", last_name="Dupont")
    assert group(keep, pupil.identifier, password) == grouping.NotGuardianAccount()
    assert group(active_pupil(), keep.identifier, "x") == grouping.NotGuardianAccount()
    pupil.refresh_from_db()
    assert pupil.state == AccountState.PROVISIONAL


def test_an_expired_letter_is_told_after_its_password():
    keep = keeper()
    other, letter, password = factories.guardian_account(first_name="Sophie", last_name="Dupont")
    letter.expires_at = timezone.now() - timedelta(seconds=1)
    letter.save()
    assert group(keep, other.identifier, password) == grouping.LetterUnusable(LetterStatus.EXPIRED)


def test_a_disabled_account_is_refused():
    keep = keeper()
    other = active_guardian(OTHER, first_name="Sophie", last_name="Dupont")
    other.state = AccountState.DISABLED
    other.save()
    assert group(keep, other.identifier, OTHER) == grouping.OtherDisabled()


def test_grouping_twice_says_where_the_account_went():
    keep = keeper()
    other, _, password = factories.guardian_account(first_name="Sophie", last_name="Dupont")
    group(keep, other.identifier, password)
    assert group(keep, other.identifier, password) == grouping.AlreadyGrouped(keep.identifier)


@pytest.mark.parametrize("active", [True, False])
def test_the_closed_account_old_password_names_the_kept_identifier(active):
    keep = keeper()
    if active:
        other, password = active_guardian(OTHER, first_name="Sophie", last_name="Dupont"), OTHER
    else:
        other, _, password = factories.guardian_account(first_name="Sophie", last_name="Dupont")
    group(keep, other.identifier, password)
    assert auth.authenticate(identifier=other.identifier, password=password, ip=IP) == auth.Merged(keep.identifier)
    assert AuditEvent.objects.filter(tag=EventTag.LOGIN_MERGED, account=other).exists()
    # A wrong password is still just a failure: nothing about the grouping is told.
    assert auth.authenticate(identifier=other.identifier, password="Whatever#123", ip=IP) == WrongCredentials()


def test_a_chain_of_groupings_names_the_last_kept_account():
    first = keeper()
    middle = active_guardian(OTHER, first_name="Sophie", last_name="Dupont")
    old, _, password = factories.guardian_account(first_name="Sophie", last_name="Dupont")
    group(middle, old.identifier, password)
    group(first, middle.identifier, OTHER)
    assert auth.authenticate(identifier=old.identifier, password=password, ip=IP) == auth.Merged(first.identifier)


def test_grouping_carries_the_franceconnect_link_to_the_kept_account():
    from trousseau.accounts.self_registration import account_absorb

    keep, _, _ = factories.guardian_account()
    other, _, _ = factories.guardian_account()
    other.franceconnect_sub = "fc-sub-123"
    other.state = AccountState.ACTIVE
    other.save()
    account_absorb(keep=keep, other=other)
    closed = type(other).objects.get(pk=other.pk)
    assert type(keep).objects.get(pk=keep.pk).franceconnect_sub == "fc-sub-123"
    assert closed.franceconnect_sub is None
    assert closed.merged_into == keep


def test_a_letter_password_alone_asks_a_childs_birth_date():
    """Finding 6: a homonym's letter password alone brings no child."""
    keep = keeper()
    other, letter, password = factories.guardian_account(first_name="Sophie", last_name="Dupont")
    assert group(keep, other.identifier, password, birth_date=None) == grouping.BirthDateNeeded()
    letter.refresh_from_db()
    assert letter.birth_date_failures == 0  # nothing was guessed
    other.refresh_from_db()
    assert other.merged_into is None
    assert AuditEvent.objects.filter(tag=EventTag.GROUPING_REFUSED, data__reason="BirthDateNeeded").exists()


def test_wrong_birth_dates_are_counted_on_the_other_letter(settings):
    keep = keeper()
    other, letter, password = factories.guardian_account(first_name="Sophie", last_name="Dupont")
    per_day = settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY
    for attempt in range(1, per_day):
        assert group(keep, other.identifier, password, date(1999, 1, attempt)) == grouping.WrongBirthDate(
            per_day - attempt
        )
    assert group(keep, other.identifier, password, date(1999, 2, 1)) == grouping.LetterUnusable(LetterStatus.PAUSED)
    # Spent: the right date is refused too, and the letter's activation shares the budget.
    assert group(keep, other.identifier, password, CHILD_BORN) == grouping.LetterUnusable(LetterStatus.PAUSED)
    assert auth.authenticate(identifier=other.identifier, password=password, ip=IP) == auth.LetterUnusable(
        LetterStatus.PAUSED
    )
    letter.refresh_from_db()
    assert letter.birth_date_failures == per_day
    assert list(keep.pupils().values_list("first_name", flat=True)) == ["Zoé"]
    events = AuditEvent.objects.filter(tag=EventTag.LETTER_BIRTH_DATE_FAILURE, account=other)
    assert {event.data["step"] for event in events} == {"grouping"}


def test_an_active_other_account_needs_no_birth_date():
    keep = keeper()
    other = active_guardian(OTHER, first_name="Sophie", last_name="Dupont")
    assert isinstance(group(keep, other.identifier, OTHER, birth_date=None), grouping.Grouped)


def test_the_names_are_told_before_any_date_is_counted():
    keep = keeper()
    other, letter, password = factories.guardian_account(first_name="Paul", last_name="Martin")
    assert group(keep, other.identifier, password, date(1999, 1, 1)) == grouping.NamesDiffer()
    letter.refresh_from_db()
    assert letter.birth_date_failures == 0
