"""Letters per class and per school, as PDF and CSV, from the console."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from tests import factories
from tests.console import helpers
from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.console.models import StaffRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def school():
    school = factories.school()
    for n in range(3):
        helpers.family(school, class_name="6e A", last_name=f"Six{n}")
    helpers.family(school, class_name="5e B", last_name="Cinq")
    helpers.activate(helpers.family(school, class_name="6e A", last_name="Active").pupil_account)
    return school


@pytest.fixture
def member(school):
    return helpers.staff(StaffRole.SECRETARIAT, school=school)


def post(browser, school, **data):
    # The families' letters made by the factories are still valid: replacing them is the choice made here.
    fields = {"kinds": "pupils", "format": "pdf", "valides": "remplacer", **data}
    return browser.post(reverse("console:letters", args=[school.uai]), fields)


def test_a_class_pdf_has_one_page_per_waiting_pupil(school, member):
    browser = helpers.console(member)
    response = post(browser, school, classe="6e A")
    assert response["Content-Type"] == "application/pdf"
    assert "courriers-" in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 3  # the active pupil gets no letter
    text = "\n".join(page.extract_text() for page in reader.pages)
    for pupil_account in school.pupils.filter(class_name="6e A", account__state="provisional"):
        assert pupil_account.account.identifier in text
    [event] = helpers.events(EventTag.CONSOLE_LETTERS_PRINTED, staff=member.pk, school=school.uai)
    assert event.data["scope"] == "class:6e A"
    assert event.data["count"] == 3


def test_a_school_pdf_of_pupils_and_guardians(school, member):
    response = post(helpers.console(member), school, kinds="both")
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 4 + 5


def test_the_csv_for_mail_merge(school, member):
    response = post(helpers.console(member), school, classe="5e B", kinds="guardians", format="csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1
    assert rows[0]["type"] == "responsable"
    assert helpers.events(EventTag.CONSOLE_LETTERS_EXPORTED, staff=member.pk, school=school.uai)


def test_nothing_to_print(school, member):
    response = post(helpers.console(member), school, classe="6e A", kinds="guardians")
    assert response["Content-Type"] == "application/pdf"
    empty = factories.school()
    other = helpers.staff(StaffRole.SECRETARIAT, school=empty)
    answer = post(helpers.console(other), empty, kinds="both")
    assert answer.status_code == 302
    assert not helpers.events(EventTag.CONSOLE_LETTERS_PRINTED, staff=other.pk)


def test_the_letters_page_lists_what_waits_per_class(school, member):
    page = helpers.console(member).get(reverse("console:letters", args=[school.uai])).text
    assert '<option value="6e A">6e A</option>' in page
    assert "Télécharger les courriers (PDF)" in page


def test_an_ecoles_letters_are_for_guardians_and_its_head_is_its_director():
    ecole = factories.school(level="ecole", name="École Jules-Ferry")
    pupil = factories.pupil(school=ecole, class_name="CP")
    factories.guardian_account(children=[pupil], last_name="Ferry")
    director = helpers.staff(StaffRole.HEAD, school=ecole)
    browser = helpers.console(director)
    page = browser.get(reverse("console:letters", args=[ecole.uai]))
    assert "Directeur ou directrice d'école" in page.text
    assert 'value="guardians" checked' in page.text
    assert "Les élèves et leurs responsables" not in page.text
    # A pupils' selection posted anyway is refused: an école's pupils have no account.
    assert post(browser, ecole).status_code == 400
    printed = browser.post(
        reverse("console:letters", args=[ecole.uai]), {"kinds": "guardians", "format": "pdf", "valides": "remplacer"}
    )
    assert printed["Content-Type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(printed.content)).pages) == 1


def test_a_colleges_head_keeps_the_usual_title(school):
    head = helpers.staff(StaffRole.HEAD, school=school)
    page = helpers.console(head).get(reverse("console:letters", args=[school.uai]))
    assert "Chef d'établissement" in page.text
    assert "Directeur ou directrice" not in page.text


def test_letters_that_would_void_valid_ones_say_which_and_ask_first(school, member):
    browser = helpers.console(member)
    asked = browser.post(reverse("console:letters", args=[school.uai]), {"kinds": "pupils", "format": "csv"})
    assert asked["Content-Type"].startswith("text/html")
    assert "comptes de cette sélection ont déjà un courrier valable" in asked.text
    assert "Seulement les comptes sans courrier valable" in asked.text
    assert not helpers.events(EventTag.CONSOLE_LETTERS_EXPORTED, staff=member.pk)  # nothing issued yet
    before = {a.pk: a.letters.first().pk for a in Account.objects.filter(pupil__school=school)}
    # "Only those without a valid letter": none here, so nothing to print and no letter voided.
    none = browser.post(
        reverse("console:letters", args=[school.uai]),
        {"kinds": "pupils", "format": "csv", "valides": "sans_courrier"},
        follow=True,
    )
    assert "il n'y a rien à imprimer" in none.text
    assert {a.pk: a.letters.first().pk for a in Account.objects.filter(pupil__school=school)} == before
    # A letter revoked by hand: only that account is exported when she leaves the others alone.
    lost = Account.objects.filter(pupil__school=school, state="provisional").first()
    lost.letters.update(revoked_at=timezone.now())
    only = browser.post(
        reverse("console:letters", args=[school.uai]),
        {"kinds": "pupils", "format": "csv", "valides": "sans_courrier"},
    )
    rows = list(csv.DictReader(io.StringIO(only.content.decode("utf-8-sig")), delimiter=";"))
    assert [r["identifiant"] for r in rows] == [lost.identifier]
