"""Unit tests per transition of self-registration by SMS."""

import re
from datetime import date

import pytest

from tests import factories
from trousseau.accounts.exceptions import AlreadyActive
from trousseau.accounts.models import Account, AccountState, ContestedLink
from trousseau.accounts.services import account_create_for_guardian, letter_issue
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core.refusals import TooManyTries
from trousseau.flows.exceptions import (
    IncompleteAnswers,
    NoMatch,
    NothingConfirmed,
    TooManyAttempts,
    WrongBirthDate,
    WrongState,
)
from trousseau.flows.models import FlowState
from trousseau.flows.self_registration import transitions as reg
from trousseau.flows.steps.children import children as listed_children
from trousseau.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
IP = "198.51.100.7"
PHONE = "+33612345678"


def family():
    school = factories.school(name="Collège Jean-Moulin")
    zoe = factories.pupil(school=school, first_name="Zoé", birth_date=date(2012, 5, 6))
    hugo = factories.pupil(
        school=factories.school(name="Lycée Marie-Curie"), first_name="Hugo", birth_date=date(2009, 1, 2)
    )
    g1 = factories.guardian(children=[zoe], first_name="Sophie", last_name="Dupont-Moreau", mobile=PHONE)
    # The same mother as the lycée recorded her: a second record.
    g2 = factories.guardian(children=[hugo], first_name="Sophie", last_name="DUPONT MOREAU", mobile=PHONE)
    return zoe, hugo, g1, g2


def sms_code() -> str:
    found = re.search(r"\d{6}", OutboxMessage.objects.filter(to=PHONE).first().body)
    assert found is not None
    return found.group(0)


def at_children():
    zoe, hugo, g1, g2 = family()
    flow = reg.start(last_name="dupont moreau", first_name="sophie", phone=PHONE, ip=IP, browser_secret="s")
    reg.submit_code(flow, code=sms_code(), ip=IP)
    return flow, zoe, hugo, g1, g2


def test_names_are_folded_and_every_record_of_the_person_is_matched():
    _, _, g1, g2 = family()
    flow = reg.start(last_name="DUPONT-MOREAU", first_name="Sophie", phone=PHONE, ip=IP, browser_secret="s")
    assert flow.state == FlowState.AWAITING_CODE
    assert sorted(flow.context["guardian_ids"]) == sorted([g1.pk, g2.pk])
    assert OutboxMessage.objects.filter(to=PHONE).count() == 1


@pytest.mark.parametrize(
    ("last", "first", "phone"),
    [("Dupont", "Sophie", PHONE), ("Dupont-Moreau", "Sophia", PHONE), ("Dupont-Moreau", "Sophie", "+33699999999")],
)
def test_no_match_sends_nothing_and_is_audited(last, first, phone):
    family()
    with pytest.raises(NoMatch):
        reg.start(last_name=last, first_name=first, phone=phone, ip=IP, browser_secret="s")
    assert OutboxMessage.objects.count() == 0
    assert AuditEvent.objects.filter(tag=EventTag.SELF_REGISTRATION_NO_MATCH).count() == 1


def test_repeated_misses_from_one_address_are_throttled(settings):
    settings.SELF_REGISTRATION_IP_FREE_FAILURES = 2
    _, _, g1, _ = family()
    for _ in range(3):
        with pytest.raises(NoMatch):
            reg.start(last_name="X", first_name="Y", phone=PHONE, ip=IP, browser_secret="s")
    with pytest.raises(TooManyTries):
        reg.start(last_name=g1.last_name, first_name=g1.first_name, phone=PHONE, ip=IP, browser_secret="s")


def test_children_are_listed_with_first_name_initial_and_school():
    flow, *_ = at_children()
    assert flow.state == FlowState.CONFIRMING_CHILDREN
    listed = {(c.first_name, c.last_initial, c.school) for c in listed_children(flow)}
    assert listed == {("Zoé", "D", "Collège Jean-Moulin"), ("Hugo", "D", "Lycée Marie-Curie")}


def test_one_wrong_birth_date_is_counted_without_saying_which():
    flow, zoe, hugo, _, _ = at_children()
    with pytest.raises(WrongBirthDate) as exc:
        reg.confirm_children(flow, answers={zoe.pk: zoe.birth_date, hugo.pk: date(2009, 1, 3)}, ip=IP)
    assert exc.value.remaining == 4
    flow.refresh_from_db()
    assert flow.state == FlowState.CONFIRMING_CHILDREN
    assert not ContestedLink.objects.exists()


def test_five_wrong_pages_end_the_flow():
    flow, zoe, hugo, _, _ = at_children()
    for _ in range(4):
        with pytest.raises(WrongBirthDate):
            reg.confirm_children(flow, answers={zoe.pk: date(2000, 1, 1), hugo.pk: None}, ip=IP)
    with pytest.raises(TooManyAttempts):
        reg.confirm_children(flow, answers={zoe.pk: date(2000, 1, 1), hugo.pk: None}, ip=IP)
    assert flow.state == FlowState.FAILED


def test_a_new_flow_does_not_renew_the_guesses_at_the_birth_dates():
    """The family's records allow 6 tries a day, however many flows (and SMS) are started (check 16)."""
    flow, zoe, hugo, _, _ = at_children()
    wrong = {zoe.pk: date(2000, 1, 1), hugo.pk: None}
    for _ in range(4):
        with pytest.raises(WrongBirthDate):
            reg.confirm_children(flow, answers=wrong, ip=IP)
    with pytest.raises(TooManyAttempts):
        reg.confirm_children(flow, answers=wrong, ip=IP)
    again = reg.start(
        last_name="dupont moreau", first_name="sophie", phone=PHONE, ip="198.51.100.20", browser_secret="t"
    )
    reg.submit_code(again, code=sms_code(), ip="198.51.100.20")
    with pytest.raises(WrongBirthDate):
        reg.confirm_children(again, answers=wrong, ip="198.51.100.20")  # the 6th try of the day
    right = {zoe.pk: zoe.birth_date, hugo.pk: hugo.birth_date}
    with pytest.raises(TooManyAttempts):
        reg.confirm_children(again, answers=right, ip="198.51.100.20")  # even right: tomorrow
    again.refresh_from_db()
    assert again.state == FlowState.FAILED
    assert AuditEvent.objects.filter(tag=EventTag.CHILD_CONFIRMATION_FAILURE, data__reason="daily_budget").exists()


def test_every_child_must_be_answered():
    flow, zoe, _, _, _ = at_children()
    with pytest.raises(IncompleteAnswers):
        reg.confirm_children(flow, answers={zoe.pk: zoe.birth_date}, ip=IP)


def test_whole_journey_with_one_contested_link():
    flow, zoe, hugo, g1, g2 = at_children()
    reg.confirm_children(flow, answers={zoe.pk: zoe.birth_date, hugo.pk: None}, ip=IP)
    assert ContestedLink.objects.get().guardianship.pupil == hugo
    assert flow.state == FlowState.CHOOSING_PASSWORD
    identifier = flow.context["identifier"]
    assert identifier.startswith("s.dupontmoreau")
    assert not Account.objects.exists()  # only the last step creates the account
    account = reg.choose_password(flow, password=factories.GOOD_PASSWORD, ip=IP)
    assert account.identifier == identifier
    assert account.state == AccountState.ACTIVE
    assert list(account.pupils()) == [zoe]  # the contested child is not attached
    assert {link.guardian for link in account.guardian_links.all()} == {g1, g2}
    assert AuditEvent.objects.filter(tag=EventTag.LINK_CONTESTED).count() == 1
    assert AuditEvent.objects.filter(tag=EventTag.SELF_REGISTRATION_SUCCESS, account=account).exists()
    with pytest.raises(WrongState):
        reg.choose_password(flow, password=factories.GOOD_PASSWORD, ip=IP)


def test_all_links_contested_ends_without_account():
    flow, zoe, hugo, _, _ = at_children()
    with pytest.raises(NothingConfirmed):
        reg.confirm_children(flow, answers={zoe.pk: None, hugo.pk: None}, ip=IP)
    assert ContestedLink.objects.count() == 2
    assert not Account.objects.exists()


def test_provisional_accounts_from_letters_are_reused_and_merged():
    _, _, g1, g2 = family()
    first = account_create_for_guardian(guardian=g1)
    letter_issue(account=first)
    second = account_create_for_guardian(guardian=g2)
    letter_issue(account=second)
    flow = reg.start(last_name="Dupont-Moreau", first_name="Sophie", phone=PHONE, ip=IP, browser_secret="s")
    reg.submit_code(flow, code=sms_code(), ip=IP)
    answers = {c.pupil_id: c.birth_date for c in listed_children(flow)}
    reg.confirm_children(flow, answers=answers, ip=IP)
    assert flow.context["identifier"] == first.identifier
    account = reg.choose_password(flow, password=factories.GOOD_PASSWORD, ip=IP)
    assert account.pk == first.pk
    assert account.pupils().count() == 2
    second.refresh_from_db()
    assert second.state == AccountState.DISABLED
    assert second.merged_into == account
    assert not first.letters.filter(revoked_at=None, used_at=None).exists()
    assert Account.objects.filter(state=AccountState.ACTIVE).count() == 1


def test_an_active_account_ends_the_journey_with_recovery():
    _, _, g1, _ = family()
    existing = account_create_for_guardian(guardian=g1)
    existing.state = AccountState.ACTIVE
    existing.save()
    flow = reg.start(last_name="Dupont-Moreau", first_name="Sophie", phone=PHONE, ip=IP, browser_secret="s")
    with pytest.raises(AlreadyActive):
        reg.submit_code(flow, code=sms_code(), ip=IP)
    assert flow.state == FlowState.ALREADY_ACTIVE
    assert Account.objects.count() == 1


def test_links_that_are_not_legal_representation_are_not_offered():
    zoe, hugo, g1, _ = family()
    g1.guardianships.filter(pupil=zoe).update(is_legal_representative=False)
    flow = reg.start(last_name="Dupont-Moreau", first_name="Sophie", phone=PHONE, ip=IP, browser_secret="s")
    reg.submit_code(flow, code=sms_code(), ip=IP)
    assert [c.pupil_id for c in listed_children(flow)] == [hugo.pk]
