"""Roles and scope: each school's staff see their school, operators their académie, readers only read."""

import pytest
from django.urls import reverse

from tests import factories
from tests.console import helpers
from trousseau.accounts.models import AccountState
from trousseau.audit.events import EventTag
from trousseau.console.models import StaffRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_schools():
    here = factories.school(academie="Normandie")
    there = factories.school(academie="Normandie")
    return here, there


def school_pages(uai: str) -> list[str]:
    names = ["school", "search", "contests", "letters", "import", "followup", "followup_csv", "timeline_csv", "journal"]
    return [reverse(f"console:{name}", args=[uai]) for name in names]


def test_a_secretary_sees_every_page_of_their_school(two_schools):
    here, _ = two_schools
    browser = helpers.console(helpers.staff(StaffRole.SECRETARIAT, school=here))
    for url in school_pages(here.uai):
        assert browser.get(url).status_code == 200, url
    assert browser.get(reverse("console:home"))["Location"] == reverse("console:school", args=[here.uai])


def test_a_secretary_gets_403_on_another_school_and_it_is_audited(two_schools):
    here, there = two_schools
    member = helpers.staff(StaffRole.SECRETARIAT, school=here)
    browser = helpers.console(member)
    for url in school_pages(there.uai):
        response = browser.get(url)
        assert response.status_code == 403, url
        assert "Cet établissement n'est pas dans votre périmètre." in response.text
    assert len(helpers.events(EventTag.CONSOLE_ACCESS_DENIED, staff=member.pk, requested_school=there.uai)) == len(
        school_pages(there.uai)
    )


def test_a_secretary_cannot_act_on_another_schools_accounts(two_schools):
    here, there = two_schools
    family = helpers.family(there)
    browser = helpers.console(helpers.staff(StaffRole.SECRETARIAT, school=here))
    account = family.guardian_account
    for name in ("console:disable", "console:reset", "console:letter"):
        assert browser.post(reverse(name, args=[there.uai, account.pk])).status_code == 403
        # Through their own school's URL, another school's account does not exist.
        assert browser.post(reverse(name, args=[here.uai, account.pk])).status_code == 404
    assert browser.get(reverse("console:account", args=[here.uai, account.pk])).status_code == 404
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL
    assert (
        browser.post(reverse("console:letters", args=[there.uai]), {"kinds": "both", "format": "pdf"}).status_code
        == 403
    )


def test_an_unknown_school_is_refused_like_another_one(two_schools):
    here, _ = two_schools
    browser = helpers.console(helpers.staff(StaffRole.HEAD, school=here))
    assert browser.get(reverse("console:school", args=["0000000Z"])).status_code == 403


def test_an_operator_sees_every_school_of_their_academie_only(two_schools):
    here, there = two_schools
    elsewhere = factories.school(academie="Bretagne")
    browser = helpers.console(helpers.staff(StaffRole.ACADEMIE, academie="Normandie"))
    assert browser.get(reverse("console:home"))["Location"] == reverse("console:schools")
    picker = browser.get(reverse("console:schools")).text
    assert here.uai in picker
    assert there.uai in picker
    assert elsewhere.uai not in picker
    assert browser.get(reverse("console:school", args=[there.uai])).status_code == 200
    assert browser.get(reverse("console:school", args=[elsewhere.uai])).status_code == 403
    csv = browser.get(reverse("console:schools_csv")).content.decode("utf-8-sig")
    assert here.uai in csv
    assert elsewhere.uai not in csv


def test_a_reader_reads_but_cannot_act(two_schools):
    here, _ = two_schools
    family = helpers.family(here)
    member = helpers.staff(StaffRole.READONLY, school=here)
    browser = helpers.console(member)
    account = family.guardian_account
    page = browser.get(reverse("console:account", args=[here.uai, account.pk])).text
    assert "Accès en lecture seule" in page
    assert "Désactiver le compte" not in page
    for name in ("console:disable", "console:reset", "console:letter", "console:enable"):
        response = browser.post(reverse(name, args=[here.uai, account.pk]))
        assert response.status_code == 403, name
        assert "lecture seule" in response.text
    guardian = family.guardian_account.guardian_links.get().guardian
    contact = reverse("console:contact", args=[here.uai, account.pk, guardian.pk])
    assert browser.get(contact).status_code == 200
    assert browser.post(contact, {"mobile": "0699999999", "email": ""}).status_code == 403
    assert (
        browser.post(reverse("console:letters", args=[here.uai]), {"kinds": "both", "format": "pdf"}).status_code == 403
    )
    assert browser.post(reverse("console:import", args=[here.uai])).status_code == 403
    account.refresh_from_db()
    guardian.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL
    assert guardian.mobile == "+33612345678"
    assert helpers.events(EventTag.CONSOLE_ACCESS_DENIED, staff=member.pk, reason="read_only")


def test_a_reader_of_an_academie_sees_its_schools(two_schools):
    here, there = two_schools
    browser = helpers.console(helpers.staff(StaffRole.READONLY, academie="Normandie"))
    assert browser.get(reverse("console:school", args=[there.uai])).status_code == 200
    assert browser.post(reverse("console:disable", args=[here.uai, 1])).status_code == 403


def test_actions_answer_post_only(two_schools):
    here, _ = two_schools
    family = helpers.family(here)
    browser = helpers.console(helpers.staff(StaffRole.HEAD, school=here))
    response = browser.get(reverse("console:disable", args=[here.uai, family.pupil_account.pk]))
    assert response.status_code == 302
    family.pupil_account.refresh_from_db()
    assert family.pupil_account.state == AccountState.PROVISIONAL
