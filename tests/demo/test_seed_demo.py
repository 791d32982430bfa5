import csv
import io
from contextlib import ExitStack
from datetime import date
from typing import IO

import pytest
from django.core.management import call_command

from trousseau.accounts import authentication as auth
from trousseau.accounts.models import Account, AccountKind
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core.text import fold
from trousseau.demo.samples.exports import ECOLE_CLASSES
from trousseau.demo.services import CSV_COLUMNS, SCHOOLS, academie
from trousseau.directory.models import Guardian, Pupil, School, SchoolLevel
from trousseau.provisioning.services import import_records

pytestmark = pytest.mark.django_db
ECOLE, COLLEGE, LYCEE = (uai for uai, *_ in SCHOOLS)


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


def test_the_demo_is_imported_from_its_schools_exports_and_importing_them_again_changes_nothing(tmp_path):
    call_command("seed_demo", pupils=40, credentials=tmp_path / "credentials.csv", stdout=io.StringIO())
    folder = tmp_path / "exports"
    files = {
        COLLEGE: ("ElevesSansAdresses.zip", "ResponsablesAvecAdresses.zip"),
        LYCEE: ("ElevesSansAdresses.zip", "ResponsablesAvecAdresses.zip"),
        ECOLE: ("CSVExtraction-eleves.csv", "CSVExtraction-responsables.csv"),
    }
    for uai, names in files.items():
        assert all((folder / uai / name).stat().st_size for name in names)
    # The SIECLE schools' pupils carry their ELEVE_ID, their guardians their PERSONNE_ID; ONDE has neither.
    second_degree = Pupil.objects.exclude(school__level=SchoolLevel.ECOLE)
    assert second_degree.exists()
    assert not second_degree.filter(source_id="").exists()
    assert not Guardian.objects.exclude(school__level=SchoolLevel.ECOLE).filter(source_id="").exists()
    ecole = School.objects.get(uai=ECOLE)
    assert ecole.pupils.exists()
    assert not ecole.pupils.exclude(source_id="").exists()
    assert not Guardian.objects.filter(school=ecole).exclude(source_id="").exists()
    # ONDE's class labels are the école's classes.
    assert set(ecole.pupils.values_list("class_name", flat=True)) <= {label for _, label, _ in ECOLE_CLASSES}
    assert AuditEvent.objects.filter(tag=EventTag.DIRECTORY_IMPORT_APPLIED).count() == 2

    pupils, guardians, accounts = Pupil.objects.count(), Guardian.objects.count(), Account.objects.count()
    with ExitStack() as stack:

        def opened(uai: str) -> list[IO[bytes]]:
            return [stack.enter_context((folder / uai / name).open("rb")) for name in files[uai]]

        siecle = [opened(COLLEGE), opened(LYCEE)]
        again = [
            import_records(pupils=[p for p, _ in siecle], guardians=[g for _, g in siecle]),
            import_records(pupils=opened(ECOLE)[0], guardians=opened(ECOLE)[1], school=ecole),
        ]
    for result in again:
        assert result.ok, result.errors[:3]
        assert result.pupils.unchanged
        assert result.guardians.unchanged
        changed = [result.pupils, result.guardians]
        assert all((c.created, c.updated, c.left, c.returned) == (0, 0, 0, 0) for c in changed)
        assert (result.links_created, result.links_updated, result.links_removed) == (0, 0, 0)
        assert (result.accounts_created, result.accounts_disabled, result.accounts_enabled) == (0, 0, 0)
    assert sum(r.pupils.unchanged for r in again) == pupils
    assert sum(r.guardians.unchanged for r in again) == guardians
    assert (Pupil.objects.count(), Guardian.objects.count(), Account.objects.count()) == (pupils, guardians, accounts)


def test_the_ecoles_exports_name_no_two_pupils_of_a_class_nor_two_guardians_alike():
    """ONDE names guardians and children without identifiers: the demo avoids the namesakes it would refuse."""
    made = academie(400)
    ecole = made.schools[0]
    classes = {code: label for code, label, _ in ECOLE_CLASSES}
    pupils = [(fold(p.last_name), fold(p.first_name), classes[p.class_code]) for p in ecole.pupils]
    assert len(pupils) == len(set(pupils))
    mobiles: dict[tuple[str, str], set[str]] = {}
    for pupil in ecole.pupils:
        for person, _, _ in pupil.guardians:
            mobiles.setdefault((fold(person.last_name), fold(person.first_name)), set()).add(person.mobile)
    assert all(len(numbers) == 1 for numbers in mobiles.values())
    # The first families keep their names (the FranceConnect stand-in's identities are among them).
    assert [(p.last_name, p.first_name) for p in ecole.pupils[:2]] == [("Dupont", "Léa"), ("N'Diaye", "Zoé")]
