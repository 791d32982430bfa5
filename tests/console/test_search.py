"""Search by name, identifier or INE, within the school only."""

import pytest
from django.urls import reverse

from tests import factories
from tests.console import helpers
from trousseau.accounts.models import AccountKind
from trousseau.console.models import StaffRole
from trousseau.console.selectors.accounts import search_accounts
from trousseau.directory.models import Guardian

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


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "06.12.34.56.78", "+33 6 12 34 56 78", "0033612345678"])
def test_a_parent_on_the_phone_is_found_by_their_number_in_any_form(school, typed):
    family = helpers.family(school)  # the guardian record's mobile is +33612345678 (factories)
    other = helpers.family(school, last_name="Martin")
    Guardian.objects.filter(account_link__account=other.guardian_account).update(mobile="+33698765432")
    assert identifiers(search_accounts(school, query=typed)) == {family.guardian_account.identifier}


def test_a_parent_is_found_by_their_email_or_their_records(school):
    family = helpers.family(school)
    Guardian.objects.filter(account_link__account=family.guardian_account).update(email="Sophie.Dupont@exemple.fr")
    other = helpers.family(school, last_name="Martin")
    other.guardian_account.email = "karim.martin@exemple.fr"
    other.guardian_account.save()
    assert identifiers(search_accounts(school, query="sophie.dupont@EXEMPLE.fr")) == {
        family.guardian_account.identifier
    }
    assert identifiers(search_accounts(school, query="karim.martin@exemple.fr")) == {other.guardian_account.identifier}
    assert identifiers(search_accounts(school, query="nobody@exemple.fr")) == set()


def test_a_number_finds_nobody_of_another_school(school):
    helpers.family(factories.school())  # same mobile, another school
    assert identifiers(search_accounts(school, query="06 12 34 56 78")) == set()


def test_nine_digits_are_still_an_ine_start_not_a_phone(school):
    family = helpers.family(school)
    assert family.pupil_account.identifier in identifiers(search_accounts(school, query=family.pupil.ine[:9]))


def test_the_search_page_reads_a_number(browser, school):
    family = helpers.family(school)
    page = browser.get(reverse("console:search", args=[school.uai]), {"q": "06 12 34 56 78"})
    assert family.guardian_account.identifier in page.text
    assert "Nom, identifiant, INE, téléphone ou email" in page.text
