import csv
from datetime import date

import pytest
from django.core.management import call_command

from trousseau.accounts import authentication as auth
from trousseau.accounts.models import Account, AccountKind
from trousseau.demo.services import CSV_COLUMNS
from trousseau.directory.models import Guardian, School, SchoolLevel

pytestmark = pytest.mark.django_db


def test_demo_academie_and_its_letters(tmp_path):
    path = tmp_path / "credentials.csv"
    call_command("seed_demo", pupils=40, credentials=path)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(rows[0].keys()) == CSV_COLUMNS
    assert {s.level for s in School.objects.all()} == set(SchoolLevel.values)
    kinds = {r["kind"] for r in rows}
    assert kinds == {"guardian", "pupil"}
    # Every guardian row's birth date is one of that account's children's, and phones are E.164.
    for row in rows:
        account = Account.objects.get(identifier=row["identifier"])
        assert date.fromisoformat(row["birth_date"]) in account.known_birth_dates()
        if row["kind"] == "guardian":
            assert row["phone"].startswith("+33")
    # Some guardians hold two letters (children in two schools): same person, two accounts.
    people = [(r["last_name"], r["first_name"], r["phone"]) for r in rows if r["kind"] == "guardian"]
    assert len(people) > len(set(people))
    # Siblings: some guardian record has two or more children.
    assert any(g.pupils.count() >= 2 for g in Guardian.objects.all())
    # No pupil account for primary school pupils (ÉduConnect: 2nd degree only).
    assert not Account.objects.filter(kind=AccountKind.PUPIL, pupil__school__level=SchoolLevel.ECOLE).exists()
    # A letter from the file opens the activation journey.
    row = rows[0]
    outcome = auth.authenticate(identifier=row["identifier"], password=row["provisional_password"], ip="127.0.0.1")
    assert isinstance(outcome, auth.ProvisionalLetter)


def test_seeding_twice_does_nothing(tmp_path):
    call_command("seed_demo", pupils=5, credentials=tmp_path / "a.csv")
    count = Account.objects.count()
    call_command("seed_demo", pupils=5, credentials=tmp_path / "b.csv")
    assert Account.objects.count() == count
    assert not (tmp_path / "b.csv").exists()
