"""The console speaks English to an English browser, like the rest of the service."""

import pytest
from django.urls import reverse
from django.utils import translation

from tests import factories
from tests.console import helpers
from trousseau.console.models import StaffRole

pytestmark = pytest.mark.django_db
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _back_to_french():
    yield
    translation.deactivate()


def test_the_console_login_and_pages_in_english(client):
    page = client.get(reverse("console:login"), headers=ENGLISH).text
    assert "Log in to the school console" in page
    assert "Work email address" in page
    school = factories.school()
    browser = helpers.console(helpers.staff(StaffRole.READONLY, school=school))
    page = browser.get(reverse("console:followup", args=[school.uai]), headers=ENGLISH).text
    assert "Activation follow-up" in page
    assert "Read-only access: you can view, not change." in page
    assert "Suivi des activations" not in page
