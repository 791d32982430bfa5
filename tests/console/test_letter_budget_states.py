"""The console names a letter that took too many wrong birth dates (issue #15, finding 2)."""

import html

import pytest
from django.urls import reverse

from tests import factories
from tests.console import helpers
from trousseau.console.models import StaffRole

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("failures", "shown"),
    [
        (5, "suspendu jusqu'à demain après trop de dates de naissance erronées"),
        (10, "bloqué après trop de dates de naissance erronées : imprimez un nouveau courrier"),
    ],
)
def test_the_account_page_says_the_letter_is_paused_or_blocked(settings, failures, shown):
    school = factories.school()
    family = helpers.family(school)
    account = family.guardian_account
    letter = account.letters.get()
    letter.birth_date_failures = letter.birth_date_failures_today = failures
    letter.birth_date_day_began_at = letter.issued_at
    letter.save()
    console = helpers.console(helpers.staff(StaffRole.SECRETARIAT, school=school))
    page = console.get(reverse("console:account", args=[school.uai, account.pk]))
    assert shown in html.unescape(page.text)
