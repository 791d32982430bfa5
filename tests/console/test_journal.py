"""The console's journal: every step with who, when, what, for the school's staff to read."""

import pytest
from django.urls import reverse

from tests import factories
from tests.console import helpers
from trousseau.console.models import StaffRole

pytestmark = pytest.mark.django_db
CONFIRMED = {"confirme": "oui"}  # the confirmation page's button


def test_the_journal_lists_the_schools_console_steps_only():
    school = factories.school()
    family = helpers.family(school)
    member = helpers.staff(StaffRole.SECRETARIAT, school=school)
    browser = helpers.console(member)
    browser.post(reverse("console:disable", args=[school.uai, family.pupil_account.pk]), CONFIRMED)
    other = factories.school()
    helpers.console(helpers.staff(StaffRole.SECRETARIAT, school=other))
    page = browser.get(reverse("console:journal", args=[school.uai])).text
    assert 'data-tag="console:account:disabled"' in page
    assert 'data-tag="console:login:success"' in page
    assert member.email in page
    assert family.pupil_account.identifier in page
    assert page.count('data-tag="console:login:success"') == 1  # not the other school's login


def test_the_journal_says_what_letters_exports_and_account_actions_did():
    school = factories.school()
    for n in range(2):
        helpers.family(school, class_name="6e A", last_name=f"Six{n}")
    member = helpers.staff(StaffRole.SECRETARIAT, school=school)
    browser = helpers.console(member)
    browser.post(
        reverse("console:letters", args=[school.uai]),
        {"kinds": "pupils", "format": "pdf", "classe": "6e A", "valides": "remplacer"},
    )
    browser.get(reverse("console:waiting_csv", args=[school.uai]), {"classe": "6e A"})
    account = helpers.activate(helpers.family(school, class_name="5e B", last_name="Cinq").pupil_account)
    browser.post(reverse("console:disable", args=[school.uai, account.pk]), CONFIRMED)
    page = browser.get(reverse("console:journal", args=[school.uai])).text
    assert "classe 6e A : 2 courrier(s)" in page
    assert "comptes en attente — classe 6e A" in page
    assert "sessions fermées : 0" in page
