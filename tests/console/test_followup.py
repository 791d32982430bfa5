"""The follow-up figures (per school, class, kind and day), the chart, and CSV exports safe for spreadsheets."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.console import helpers
from trousseau.accounts.models import AccountState
from trousseau.audit.events import EventTag
from trousseau.console.models import StaffRole
from trousseau.console.selectors import followup
from trousseau.console.selectors.followup import Rate
from trousseau.console.spreadsheet import csv_bytes, safe_cell
from trousseau.directory.models import Guardian, School

pytestmark = pytest.mark.django_db


@pytest.fixture
def school():
    """6e A: three families, one pupil and one guardian active; 5e B: two families, one disabled pupil."""
    school = factories.school()
    now = timezone.now()
    six = [helpers.family(school, class_name="6e A", last_name=f"Six{n}") for n in range(3)]
    helpers.activate(six[0].pupil_account, at=now - timedelta(days=3))
    helpers.activate(six[1].guardian_account, at=now - timedelta(days=1))
    five = [helpers.family(school, class_name="5e B", last_name=f"Cinq{n}") for n in range(2)]
    helpers.activate(five[0].pupil_account, at=now)
    five[1].pupil_account.state = AccountState.DISABLED
    five[1].pupil_account.save()
    return school


def by_class(school: School) -> dict[str, followup.Line]:
    return {line.key: line for line in followup.per_class(school)}


def test_rates_per_class_and_kind(school):
    lines = by_class(school)
    assert lines["6e A"].pupils == Rate(1, 3)
    assert lines["6e A"].guardians == Rate(1, 3)
    assert lines["6e A"].overall == Rate(2, 6)
    assert lines["5e B"].pupils == Rate(1, 1)  # the disabled account is not counted
    assert lines["5e B"].guardians == Rate(0, 2)
    assert lines["5e B"].pupils.percent == 100
    assert lines["6e A"].pupils.percent == 33


def test_rates_per_school(school):
    other = factories.school()
    helpers.family(other)
    lines = {line.key: line for line in followup.per_school(School.objects.filter(pk__in=[school.pk, other.pk]))}
    assert lines[school.uai].pupils == Rate(2, 4)
    assert lines[school.uai].guardians == Rate(1, 5)
    assert lines[other.uai].pupils == Rate(0, 1)
    assert followup.school_total(school) == lines[school.uai]


def test_a_guardian_of_two_classes_counts_once_per_class_and_once_for_the_school():
    school = factories.school()
    a = factories.pupil_account(school=school, class_name="6e A")[0]
    b = factories.pupil_account(school=school, class_name="4e A", first_name="Hugo")[0]
    guardian = factories.guardian_account(children=[a.pupil, b.pupil])[0]
    helpers.activate(guardian)
    lines = by_class(school)
    assert lines["6e A"].guardians == Rate(1, 1)
    assert lines["4e A"].guardians == Rate(1, 1)
    assert followup.school_total(school).guardians == Rate(1, 1)


def test_the_timeline_counts_activations_day_by_day(school):
    today = timezone.localdate()
    points = followup.timeline(school, days=5, today=today)
    assert [p.day for p in points] == [today - timedelta(days=n) for n in (4, 3, 2, 1, 0)]
    assert [p.pupils.active for p in points] == [0, 1, 1, 1, 2]
    assert [p.guardians.active for p in points] == [0, 0, 0, 1, 1]
    assert {p.pupils.total for p in points} == {4}
    assert {p.guardians.total for p in points} == {5}


def test_the_dashboard_shows_tables_and_an_accessible_chart(school):
    browser = helpers.console(helpers.staff(StaffRole.SECRETARIAT, school=school))
    page = browser.get(reverse("console:followup", args=[school.uai]), {"jours": 7}).text
    assert '<tr data-class="6e A">' in page
    assert "1 / 3 (33 %)" in page
    assert 'role="img"' in page
    assert '<title id="chart-title">Taux d\'activation sur les 7 derniers jours</title>' in page
    assert "Aujourd'hui : élèves 50 %, responsables 20 %." in page
    assert 'points="' in page
    assert "style=" not in page  # CSP: no inline style anywhere
    assert "<script>" not in page
    assert page.count("<progress") >= 6


def test_a_dashboard_with_no_account_still_renders():
    school = factories.school()
    browser = helpers.console(helpers.staff(StaffRole.HEAD, school=school))
    assert "Aucun compte." in browser.get(reverse("console:followup", args=[school.uai])).text


def read_csv(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def test_the_class_export(school):
    member = helpers.staff(StaffRole.SECRETARIAT, school=school)
    rows = read_csv(helpers.console(member).get(reverse("console:followup_csv", args=[school.uai])))
    six_pupils = next(r for r in rows if r["nom"] == "6e A" and r["profil"] == "eleves")
    assert six_pupils == {
        "niveau": "classe",
        "uai": school.uai,
        "nom": "6e A",
        "profil": "eleves",
        "actifs": "1",
        "comptes": "3",
        "taux_pourcent": "33",
    }
    assert rows[0]["niveau"] == "etablissement"
    assert helpers.events(EventTag.CONSOLE_FOLLOWUP_EXPORTED, staff=member.pk, school=school.uai)


def test_the_timeline_export(school):
    browser = helpers.console(helpers.staff(StaffRole.SECRETARIAT, school=school))
    rows = read_csv(browser.get(reverse("console:timeline_csv", args=[school.uai]), {"jours": 7}))
    assert len(rows) == 7
    assert rows[-1]["date"] == timezone.localdate().isoformat()
    assert rows[-1]["eleves_actifs"] == "2"


def test_formulas_in_class_names_are_escaped_on_export():
    school = factories.school()
    for evil in ('=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)"):
        helpers.family(school, class_name=evil[:20])
    browser = helpers.console(helpers.staff(StaffRole.SECRETARIAT, school=school))
    text = browser.get(reverse("console:followup_csv", args=[school.uai])).content.decode("utf-8")
    names = {row["nom"] for row in csv.DictReader(io.StringIO(text[1:]), delimiter=";")}
    assert "'=HYPERLINK(\"http://e" in names
    assert {"'+1+1", "'-2+3", "'@SUM(A1)"} <= names
    assert not any(name[:1] in "=+-@" for name in names)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+33612345678", "+33612345678"),  # a number stays a number
        ("-5", "-5"),
        ("-5+cmd|' /C calc'!A0", "'-5+cmd|' /C calc'!A0"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("Dupont", "Dupont"),
        (None, ""),
        (42, "42"),
    ],
)
def test_safe_cells(value, cell):
    assert safe_cell(value) == cell


def test_csv_bytes_is_excel_friendly():
    data = csv_bytes(["a", "b"], [["=x", "é"]])
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8") == "\ufeffa;b\r\n'=x;é\r\n"


def test_who_has_not_activated_is_listed_per_class_with_how_to_reach_them():
    school = factories.school()
    waiting = helpers.family(school, class_name="6e A", last_name="Attente")
    done = helpers.family(school, class_name="6e A", last_name="Active")
    helpers.activate(done.pupil_account)
    helpers.activate(done.guardian_account)
    other_class = helpers.family(school, class_name="5e B", last_name="Ailleurs")
    Guardian.objects.filter(account_link__account=waiting.guardian_account).update(mobile="", email="a@exemple.fr")
    member = helpers.staff(StaffRole.SECRETARIAT, school=school)
    browser = helpers.console(member)
    dashboard = browser.get(reverse("console:followup", args=[school.uai])).text
    assert "Qui n'a pas activé en 6e A" in dashboard
    page = browser.get(reverse("console:waiting", args=[school.uai]), {"classe": "6e A"}).text
    assert "2 comptes en attente" in page
    assert waiting.guardian_account.identifier in page
    assert waiting.pupil_account.identifier in page
    assert done.pupil_account.identifier not in page
    assert other_class.pupil_account.identifier not in page
    export = browser.get(reverse("console:waiting_csv", args=[school.uai]), {"classe": "6e A"})
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    guardian = next(r for r in rows if r["identifiant"] == waiting.guardian_account.identifier)
    assert (guardian["portable_enregistre"], guardian["email_enregistre"]) == ("non", "oui")
    pupil = next(r for r in rows if r["identifiant"] == waiting.pupil_account.identifier)
    assert pupil["portable_enregistre"] == ""
    assert helpers.events(EventTag.CONSOLE_FOLLOWUP_EXPORTED, staff=member.pk, export="waiting")
    # A class the school does not have reads as the whole school.
    whole = browser.get(reverse("console:waiting", args=[school.uai]), {"classe": "<script>"}).text
    assert other_class.pupil_account.identifier in whole
