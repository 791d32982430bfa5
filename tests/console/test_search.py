"""Search by name, identifier or INE, within the school only."""

import pytest
from django.urls import reverse

from tests import factories
from tests.console import helpers
from trousseau.accounts.models import AccountKind
from trousseau.console.models import StaffRole
from trousseau.console.selectors.accounts import search_accounts

pytestmark = pytest.mark.django_db


@pytest.fixture
def school():
    return factories.school()


def identifiers(result) -> set[str]:
    return {row.identifier for row in result.rows}


def test_names_match_without_accents_or_case(school):
    family = helpers.family(school, last_name="Lefèvre", first_name="Élodie")
    helpers.family(school, last_name="Martin")
    found = search_accounts(school, query="lefevre elodie")
    assert identifiers(found) == {family.pupil_account.identifier}
    found = search_accounts(school, query="LEFÈVRE")
    assert identifiers(found) == {family.pupil_account.identifier, family.guardian_account.identifier}


def test_an_identifier_matches(school):
    family = helpers.family(school)
    assert identifiers(search_accounts(school, query=family.guardian_account.identifier)) == {
        family.guardian_account.identifier
    }


def test_an_ine_finds_the_pupil_and_their_guardians(school):
    family = helpers.family(school)
    helpers.family(school, last_name="Martin")
    found = search_accounts(school, query=family.pupil.ine.lower())
    assert identifiers(found) == {family.pupil_account.identifier, family.guardian_account.identifier}
    guardian_row = next(r for r in found.rows if r.kind == AccountKind.GUARDIAN)
    assert guardian_row.classes == [family.pupil.class_name]


def test_filters_by_kind_state_and_class(school):
    a = helpers.family(school, class_name="6e A")
    b = helpers.family(school, class_name="3e C", last_name="Martin")
    helpers.activate(b.guardian_account)
    assert identifiers(search_accounts(school, kind=AccountKind.PUPIL)) == {
        a.pupil_account.identifier,
        b.pupil_account.identifier,
    }
    assert identifiers(search_accounts(school, state="active")) == {b.guardian_account.identifier}
    assert identifiers(search_accounts(school, class_name="6e A")) == {
        a.pupil_account.identifier,
        a.guardian_account.identifier,
    }


def test_other_schools_are_never_searched(school):
    mine = helpers.family(school)
    theirs = helpers.family(factories.school())
    found = search_accounts(school, query="dupont")
    assert mine.guardian_account.identifier in identifiers(found)
    assert theirs.guardian_account.identifier not in identifiers(found)
    assert theirs.pupil.ine not in str(found)


def test_the_search_page(school):
    family = helpers.family(school)
    browser = helpers.console(helpers.staff(StaffRole.SECRETARIAT, school=school))
    url = reverse("console:search", args=[school.uai])
    page = browser.get(url, {"q": family.pupil.ine}).text
    assert "2 comptes trouvés" in page
    assert family.guardian_account.identifier in page
    assert reverse("console:account", args=[school.uai, family.guardian_account.pk]) in page
    assert "Aucun compte ne correspond." in browser.get(url, {"q": "zzzz"}).text
    assert browser.get(url, {"classe": "pas une classe"}).status_code == 200
