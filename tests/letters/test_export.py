"""CSV export of letters for mail merge: the PDF's data, with spreadsheet formulas escaped."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from tests import factories
from trousseau.accounts.models import ActivationLetter
from trousseau.accounts.services import account_create_for_guardian, account_create_for_pupil
from trousseau.letters.export import (
    CSV_COLUMNS,
    accounts_for_class,
    escape_cell,
    letters_csv,
    letters_issue,
    render_letters_csv,
)
from trousseau.letters.pdf import render_letters_pdf

pytestmark = pytest.mark.django_db


def read(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # spreadsheets then read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


@pytest.mark.parametrize("value", ["=1+1", "+33612345678", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_escaped(value):
    assert escape_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Dupont", "", "5e B", "j.dupont12", "1=1"])
def test_ordinary_cells_are_left_alone(value):
    assert escape_cell(value) == value


def test_a_formula_in_a_name_is_escaped_in_the_export(settings):
    settings.PUBLIC_URL = "https://trousseau.example.fr"
    school = factories.school(name="@Collège")
    pupil = factories.pupil(school=school, class_name="5e B", last_name='=HYPERLINK("http://x")', first_name="-Léa")
    guardian = factories.guardian(children=[pupil], last_name="+Dupont", first_name="Sophie")
    account_create_for_pupil(pupil=pupil)
    account_create_for_guardian(guardian=guardian)
    rows = read(letters_csv(accounts_for_class(school, "5e B")))
    assert list(rows[0]) == CSV_COLUMNS
    pupil_row, guardian_row = rows
    assert pupil_row["nom"] == '\'=HYPERLINK("http://x")'
    assert pupil_row["prenom"] == "'-Léa"
    assert pupil_row["etablissement"] == "'@Collège"
    assert pupil_row["type"] == "eleve"
    assert guardian_row["nom"] == "'+Dupont"
    assert guardian_row["enfants"] == '\'-Léa =HYPERLINK("http://x") (5e B)'
    assert guardian_row["adresse_connexion"] == "https://trousseau.example.fr/login"


def test_csv_and_pdf_of_one_issue_carry_the_same_valid_passwords():
    school = factories.school()
    pupils = [factories.pupil(school=school, class_name="6e A", first_name=name) for name in ("Léa", "Hugo")]
    for pupil in pupils:
        account_create_for_pupil(pupil=pupil)
    letters = letters_issue(accounts_for_class(school, "6e A"))
    rows = read(render_letters_csv(letters))
    render_letters_pdf(letters)  # the same letters: nothing is issued again
    assert ActivationLetter.objects.count() == 2
    for row, letter in zip(rows, letters, strict=True):
        assert (row["identifiant"], row["classe"]) == (letter.identifier, "6e A")
        stored = ActivationLetter.objects.get(account__identifier=row["identifiant"])
        password = row["mot_de_passe_provisoire"].removeprefix("'")  # a password may start with + or @
        assert check_password(password, stored.password_hash)
        assert row["valable_jusqu_au"] == timezone.localtime(stored.expires_at).date().isoformat()
