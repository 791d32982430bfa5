"""The school's contact, set in the console, printed on its letters; bad input changes nothing."""

import pytest
from django.urls import reverse

from tests import factories
from tests.console import helpers
from trousseau.audit.events import EventTag
from trousseau.console.models import StaffRole

pytestmark = pytest.mark.django_db


def test_a_secretary_sets_the_contact_families_read_on_their_letters():
    school = factories.school()
    member = helpers.staff(StaffRole.SECRETARIAT, school=school)
    browser = helpers.console(member)
    home = browser.get(reverse("console:school", args=[school.uai])).text
    assert "Contact imprimé sur les courriers" in home
    data = {"phone": "02 31 00 00 00", "email": "ce.0145678b@ac-normandie.fr", "hours": "lundi-vendredi 8 h 30-12 h"}
    done = browser.post(reverse("console:school_contact", args=[school.uai]), data, follow=True)
    assert "Le contact imprimé sur les courriers a été enregistré." in done.text
    school.refresh_from_db()
    assert (school.contact_phone, school.contact_email, school.contact_hours) == tuple(data.values())
    [event] = helpers.events(EventTag.CONSOLE_SCHOOL_CONTACT_UPDATED, staff=member.pk, school=school.uai)
    assert event.data["after"]["phone"] == "02 31 00 00 00"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"phone": "12", "email": "", "hours": ""}, "Ce numéro de téléphone n"),
        ({"phone": "", "email": "pas-une-adresse", "hours": ""}, "Saisissez une adresse email valide."),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(data, message):
    school = factories.school(contact_phone="02 31 00 00 00")
    browser = helpers.console(helpers.staff(StaffRole.SECRETARIAT, school=school))
    refused = browser.post(reverse("console:school_contact", args=[school.uai]), data)
    assert refused.status_code == 400
    assert message in refused.text
    school.refresh_from_db()
    assert school.contact_phone == "02 31 00 00 00"
    assert not helpers.events(EventTag.CONSOLE_SCHOOL_CONTACT_UPDATED)


def test_a_reader_cannot_change_it():
    school = factories.school()
    browser = helpers.console(helpers.staff(StaffRole.READONLY, school=school))
    assert "school-contact" not in browser.get(reverse("console:school", args=[school.uai])).text
    data = {"phone": "02 31 00 00 00", "email": "", "hours": ""}
    assert browser.post(reverse("console:school_contact", args=[school.uai]), data).status_code == 403
    school.refresh_from_db()
    assert school.contact_phone == ""
