"""On PostgreSQL the import's new rows have their foreign keys checked set-based (provisioning/fk_checks.py).

The per-row triggers are skipped for the import's own INSERTs only; each key is then checked by one
statement that also locks, FOR KEY SHARE, the referenced rows the import did not insert itself.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tests import factories
from tests.directory.helpers import guardians_csv, ine, pupils_csv
from trousseau.accounts.models import Account
from trousseau.directory.models import Guardianship, LastImport, Pupil
from trousseau.provisioning import fk_checks
from trousseau.provisioning.services import import_records
from trousseau.provisioning.sql import fetch

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's"),
]

PUPIL = (
    "INSERT INTO directory_pupil (ine, last_name, first_name, birth_date, class_name, school_id, source_id) "
    "VALUES (%s, 'Martin', 'Léa', '2012-03-04', '6A', %s, '')"
)


def _locked(table: str, row_id: int) -> bool:
    """Whether this transaction holds a row lock on the row (its xmax names a locker, not a deleter)."""
    ((xmax,),) = fetch(f"SELECT xmax::text FROM {table} WHERE id = %s", [row_id])  # noqa: S608
    return bool(xmax != "0")


def test_the_test_database_takes_the_set_based_path_and_its_keys_are_those_known():
    # A foreign key or insert trigger added by a migration must be added to fk_checks (else: row by row).
    with fk_checks.set_based() as set_based:
        assert set_based


def test_a_key_naming_no_row_fails_the_import():
    with fk_checks.set_based(), pytest.raises(IntegrityError, match=r"directory_pupil\.school_id"):
        fk_checks.insert("directory_pupil", PUPIL, [ine(1), 987_654_321])


def test_rows_the_import_did_not_insert_are_locked_and_its_own_are_not():
    school = factories.school()
    older = factories.pupil(school=school)
    guardian = factories.guardian(children=[], school=school, source_key="nom:dupont")
    with fk_checks.set_based():
        fk_checks.insert("directory_pupil", PUPIL, [ine(2), school.pk])
        new = Pupil.objects.get(ine=ine(2))
        fk_checks.insert(
            "directory_guardianship",
            "INSERT INTO directory_guardianship (guardian_id, pupil_id, is_legal_representative) "
            "VALUES (%s, %s, true), (%s, %s, true)",
            [guardian.pk, older.pk, guardian.pk, new.pk],
        )
    assert Guardianship.objects.filter(guardian=guardian).count() == 2
    assert _locked("directory_school", school.pk)  # as the trigger of each new pupil would
    assert _locked("directory_pupil", older.pk)
    assert _locked("directory_guardian", guardian.pk)
    assert not _locked("directory_pupil", new.pk)


def test_the_skipped_triggers_still_forget_the_school_s_last_import():
    school = factories.school()
    LastImport.objects.create(school=school, files="x" * 64, imported_at=timezone.now())
    with fk_checks.set_based():
        fk_checks.insert("directory_pupil", PUPIL, [ine(3), school.pk])
    assert not LastImport.objects.filter(school=school).exists()


def test_the_per_row_triggers_run_again_after_each_statement():
    with fk_checks.set_based():
        fk_checks.insert("directory_pupil", PUPIL, [ine(4), factories.school().pk])
        assert fetch("SHOW session_replication_role") == [("origin",)]


def test_without_the_right_to_skip_triggers_the_import_checks_row_by_row(monkeypatch):
    monkeypatch.setattr(fk_checks, "_may_skip_triggers", lambda: False)
    with fk_checks.set_based() as set_based:
        assert not set_based
        assert not fetch("SELECT 1 FROM pg_class WHERE relname = 'fresh_directory_pupil' AND relpersistence = 't'")
        sid = transaction.savepoint()
        fk_checks.insert("directory_pupil", PUPIL, [ine(5), 987_654_321])  # queued for the commit's check
        with pytest.raises(IntegrityError):
            fetch("SET CONSTRAINTS ALL IMMEDIATE")  # the commit's check, now
        transaction.savepoint_rollback(sid)


def test_an_import_on_the_set_based_path_writes_what_the_row_by_row_one_does(monkeypatch):
    school = factories.school(uai="0145678B", name="Collège Jean-Moulin")

    def run() -> tuple[list[tuple[object, ...]], int | None]:
        sid = transaction.savepoint()
        result = import_records(
            pupils=pupils_csv(
                [f"{ine(10)};Martin;Léa;04/03/2012;6A;0145678B", f"{ine(11)};Durand;Hugo;05/06/2011;5B;0145678B"]
            ),
            guardians=guardians_csv(
                [f"R1;Martin;Sophie;06 12 34 56 78;;{ine(10)};1", f"R2;Durand;Paul;06 98 76 54 32;;{ine(11)};1"]
            ),
            bulk_copy=True,
            max_bytes=None,
        )
        assert result.applied, result.errors
        rows = fetch(
            """SELECT p.ine, g.last_name, gs.is_legal_representative, a.kind, p.school_id
                 FROM directory_guardianship gs
                 JOIN directory_pupil p ON p.id = gs.pupil_id JOIN directory_guardian g ON g.id = gs.guardian_id
                 JOIN accounts_accountguardian ag ON ag.guardian_id = g.id JOIN accounts_account a ON a.id = ag.account_id
                ORDER BY p.ine"""
        )
        assert Account.objects.filter(pupil__school=school).count() == 2
        ((kept,),) = fetch("SELECT to_regclass('pg_temp.fresh_directory_pupil') IS NOT NULL")
        checked = fetch("SELECT count(*) FROM pg_temp.fresh_directory_pupil")[0][0] if kept else None
        transaction.savepoint_rollback(sid)
        return rows, checked

    set_based, checked = run()
    assert checked == 2  # the import's pupils were inserted on the set-based path
    monkeypatch.setattr(fk_checks, "_may_skip_triggers", lambda: False)
    assert run() == (set_based, None)
    assert set_based == [
        (ine(10), "Martin", True, "guardian", school.pk),
        (ine(11), "Durand", True, "guardian", school.pk),
    ]
