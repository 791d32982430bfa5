"""`manage.py import_records` with a generated académie file, on SQLite and on PostgreSQL (COPY)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests import factories
from tests.directory.helpers import GUARDIAN_HEADER, PUPIL_HEADER, ine
from trousseau.accounts.models import Account, AccountKind
from trousseau.directory.models import Guardian, Guardianship, Pupil, SchoolLevel

pytestmark = pytest.mark.django_db

SCHOOLS = [("0141234A", SchoolLevel.ECOLE), ("0145678B", SchoolLevel.COLLEGE), ("0149012C", SchoolLevel.LYCEE)]
NAMES = ["Martin", "Bernard", "Dupont", "N'Diaye", "Lefèvre", "Nguyen", "Da Silva", "Garcia"]
FIRST = ["Léa", "Hugo", "Chloé", "Inès", "Nathan", "Zoé", "Adam", "Manon"]
PUPILS = 5000


def write_files(tmp_path, *, encoding="utf-8", broken_line=None):
    pupils, guardians = [PUPIL_HEADER], [GUARDIAN_HEADER]
    for n in range(PUPILS):
        uai = SCHOOLS[n % 3][0]
        last = NAMES[n % len(NAMES)]
        pupils.append(f"{ine(n)};{last};{FIRST[n % 7]};{1 + n % 28:02d}/{1 + n % 12:02d}/{2008 + n % 9};C{n % 5};{uai}")
        guardians.extend(
            f"P{n}-{parent};{last};{FIRST[(n + parent + 3) % 8]};06{n * 2 + parent:08d};;{ine(n)};{1 + parent}"
            for parent in range(2)
        )
    if broken_line is not None:
        pupils[broken_line - 1] = pupils[broken_line - 1].replace("/20", "/XX")
    p, g = tmp_path / "eleves.csv", tmp_path / "responsables.csv"
    p.write_bytes("\r\n".join(pupils).encode(encoding))
    g.write_bytes("\r\n".join(guardians).encode(encoding))
    return p, g


@pytest.fixture
def academie(db):
    return [factories.school(uai=uai, level=level) for uai, level in SCHOOLS]


def command(*args):
    out, err = StringIO(), StringIO()
    call_command("import_records", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_academie_file_then_the_same_again(tmp_path, academie):
    p, g = write_files(tmp_path, encoding="latin-1")
    out, _ = command("--pupils", p, "--guardians", g)
    assert f"pupils: {PUPILS} created, 0 updated, 0 unchanged" in out
    assert f"guardians: {2 * PUPILS} created, 0 updated, 0 unchanged" in out
    assert Pupil.objects.count() == PUPILS
    assert Guardianship.objects.count() == 2 * PUPILS
    secondary = PUPILS - len(range(0, PUPILS, 3))
    assert Account.objects.filter(kind=AccountKind.PUPIL).count() == secondary
    assert Account.objects.filter(kind=AccountKind.GUARDIAN).count() == 2 * PUPILS
    identifiers = list(Account.objects.values_list("identifier", flat=True))
    assert len(set(identifiers)) == len(identifiers)
    assert Guardian.objects.get(source_key="id:P7-0").mobile == "+33600000014"
    out, _ = command("--pupils", p, "--guardians", g)
    assert f"pupils: 0 created, 0 updated, {PUPILS} unchanged, 0 left" in out
    assert "links: 0 created, 0 updated, 0 removed" in out
    assert "accounts: 0 created" in out


def test_dry_run_and_a_broken_line(tmp_path, academie):
    p, g = write_files(tmp_path, broken_line=1234)
    with pytest.raises(CommandError, match="nothing was imported"):
        command("--pupils", p, "--guardians", g)
    _, err = command_failing("--pupils", p, "--guardians", g)
    assert "eleves line 1234 [DATE_NAISS]" in err
    assert not Pupil.objects.exists()
    p, g = write_files(tmp_path)
    out, _ = command("--pupils", p, "--guardians", g, "--dry-run")
    assert "dry run" in out
    assert f"pupils: {PUPILS} created, 0 updated, 0 unchanged" in out
    assert not Pupil.objects.exists()
    assert not Account.objects.exists()


def command_failing(*args):
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command("import_records", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_additions_make_nobody_leave_and_complete_lists_stay_the_default(tmp_path):
    college = factories.school(uai="0145678B")
    stays = factories.pupil(school=college, ine=ine(9001))
    pupils = tmp_path / "eleves.csv"
    pupils.write_bytes(f"{PUPIL_HEADER}\r\n{ine(1)};Martin;Léa;01/02/2012;6A;0145678B\r\n".encode())
    out, _ = command("--pupils", pupils, "--additions")
    assert "additions and changes only (nobody leaves)" in out
    assert Pupil.objects.get(pk=stays.pk).left_at is None
    out, _ = command("--pupils", pupils)
    assert "complete lists" in out
    assert Pupil.objects.get(pk=stays.pk).left_at is not None


def test_a_file_with_the_header_alone_is_refused(tmp_path):
    factories.school(uai="0145678B")
    pupils = tmp_path / "eleves.csv"
    pupils.write_bytes(f"{PUPIL_HEADER}\r\n".encode())
    with pytest.raises(CommandError, match="aucune ligne"):
        command("--pupils", pupils)
