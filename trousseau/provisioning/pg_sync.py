"""Académie-sized imports on PostgreSQL: checked rows COPYed into staging tables, then set-based SQL.

Same meaning as orm_sync.py (tests run both on the same files). Each row is checked alone in Python
as it streams from the file into COPY; the checks that compare rows with each other (duplicates, the
pupil a guardian row names, a guardian met again with other details) are SQL on the staging tables
(staged_checks.py), so no dictionary grows with the file. A dry run does the whole import and rolls it back, so
its counts are exactly the real ones (it takes the same locks for as long).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import DatabaseError, transaction

from trousseau.directory.importers.batches import BATCH
from trousseau.directory.importers.orm_sync import adoptable_guardians
from trousseau.directory.importers.report import MAX_NAMED_DEPARTURES, Departure, ImportResult, RowError, SyncCounts
from trousseau.directory.importers.rows import (
    GUARDIANS,
    PUPILS,
    GuardianChecker,
    GuardianRow,
    PupilChecker,
    PupilRow,
    SchoolRef,
)
from trousseau.directory.importers.sources import Stream
from trousseau.directory.models import Guardian
from trousseau.provisioning import accounts_bulk, accounts_sql, fk_checks, staged_checks, transfers
from trousseau.provisioning.copy import copy_rows, temp_table, temp_table_as, update_then_insert
from trousseau.provisioning.pipeline import Run, apply_states, checked_rows, report_progress, school_index
from trousseau.provisioning.sql import execute, fetch

WORK_MEM, TEMP_BUFFERS = "64MB", "256MB"
PUPIL_STAGE = (
    "pos bigint, line integer, ine varchar(11), last_name varchar(100), first_name varchar(100), "
    "birth_date date, class_name varchar(20), school_id bigint, source_id varchar(20)"
)
GUARDIAN_STAGE = (
    "pos bigint, line integer, school_id bigint, key varchar(120), last_name varchar(100), first_name varchar(100), "
    "mobile varchar(20), email varchar(254), ine varchar(11), legal boolean, source_id varchar(20)"
)
PUPIL_COLUMNS = "ine, last_name, first_name, birth_date, class_name, school_id, source_id, left_at"
GUARDIAN_COLUMNS = "school_id, source_key, last_name, first_name, mobile, email, source_id, left_at"
SAME_PUPIL = (
    "(p.last_name, p.first_name, p.birth_date, p.class_name, p.school_id, p.source_id) "
    "IS NOT DISTINCT FROM (s.last_name, s.first_name, s.birth_date, s.class_name, s.school_id, s.source_id)"
)
SAME_GUARDIAN = (
    "(g.last_name, g.first_name, g.mobile, g.email, g.source_id) "
    "IS NOT DISTINCT FROM (s.last_name, s.first_name, s.mobile, s.email, s.source_id)"
)


def run(job: Run, result: ImportResult, pupils: Stream | None, guardians: Stream | None) -> None:
    _session_memory()
    with fk_checks.set_based():
        _run(job, result, pupils, guardians)


def _run(job: Run, result: ImportResult, pupils: Stream | None, guardians: Stream | None) -> None:
    scope: set[int] = set()
    positions = staged_checks.Positions(result)
    refused: set[str] = set()  # refused pupils' INEs: their guardians' rows add no "unknown pupil" error
    if pupils is not None:
        schools = {job.school.uai: job.school} if job.school else school_index()
        checker = PupilChecker(result.add_error, schools, school=job.school, track=False)
        refused = checker.refused
        temp_table("stage_pupil", PUPIL_STAGE)
        rows: Iterator[PupilRow] = checked_rows(job, result, pupils, PUPILS, positions.wrap(checker))
        copy_rows(
            "stage_pupil",
            ["pos", "line", "ine", "last_name", "first_name", "birth_date", "class_name", "school_id", "source_id"],
            (
                (
                    positions.row,
                    r.line,
                    r.ine,
                    r.last_name,
                    r.first_name,
                    r.birth_date,
                    r.class_name,
                    _seen(scope, r.school_id),
                    r.source_id,
                )
                for r in rows
            ),
        )
        staged_checks.refuse_duplicate_pupils(positions)
        if job.school:
            _refuse_foreign_pupils(job.school, positions)
    if guardians is not None:
        temp_table("stage_guardian", GUARDIAN_STAGE)
        guardian_checker = GuardianChecker(result.add_error, {}, refused=refused)
        people: Iterator[GuardianRow | None] = checked_rows(
            job, result, guardians, GUARDIANS, positions.wrap(lambda record: guardian_checker.checked(record, None))
        )
        copy_rows(
            "stage_guardian",
            ["pos", "line", "key", "last_name", "first_name", "mobile", "email", "ine", "legal", "source_id"],
            (
                (
                    positions.row,
                    r.line,
                    r.key,
                    r.last_name,
                    r.first_name,
                    r.mobile,
                    r.email,
                    r.ine,
                    r.legal,
                    r.source_id,
                )
                for r in people
                if r is not None
            ),
        )
        staged_checks.resolve_pupils(
            positions, staged=pupils is not None, school_id=job.school.id if job.school else None
        )
        staged_checks.refuse_guardian_conflicts(positions)
        execute("ANALYZE stage_guardian")
        if pupils is None:
            scope.update(school_id for (school_id,) in fetch("SELECT DISTINCT school_id FROM stage_guardian"))
    positions.merge()
    if job.school:
        scope = {job.school.id}
    if not result.ok and not job.partial:
        return
    result.mode = job.mode
    result.departures_skipped = not result.ok
    departures = result.ok and job.departures
    report_progress(job, "ecriture", result.rows, None)
    ids = sorted(scope)
    if pupils is not None:
        _sync_pupils(job, result, ids, departures=departures)
    if guardians is not None:
        _sync_guardians(job, result, ids, departures=departures)
    accounts_bulk.rename_accounts(scope, now=job.now)
    result.accounts_created += accounts_sql.create_accounts(ids, now=job.now)
    transfers.check_departures(job.guard, result)
    result.applied = not job.dry_run


def _session_memory() -> None:
    """Room for the staging tables and their sorts in PostgreSQL (the defaults, 8 MB of temporary buffers
    and 4 MB per sort, send an académie's staged rows to disk again and again). The server's memory, not
    this process's: it stays flat."""
    execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
    try:
        with transaction.atomic():  # a savepoint: refused once the session has used a temporary table
            execute(f"SET LOCAL temp_buffers = '{TEMP_BUFFERS}'")
    except DatabaseError:
        pass  # an earlier import of this session set them (or the server's own setting stays)


def _refuse_foreign_pupils(school: SchoolRef, positions: staged_checks.Positions) -> None:
    """A school's import never takes a pupil present in another school (transfers.py): refused rows."""
    refused = fetch(
        """SELECT s.pos, s.line, s.ine FROM stage_pupil s JOIN directory_pupil p USING (ine)
           WHERE p.left_at IS NULL AND p.school_id <> %s ORDER BY s.pos""",
        [school.id],
    )
    for pos, line, _ in refused:
        positions.add(pos, RowError(PUPILS, line, "INE", transfers.enrolled_elsewhere_message()))
    execute("DELETE FROM stage_pupil WHERE ine = ANY(%s)", [[ine for _, _, ine in refused]])


def _seen(scope: set[int], school_id: int) -> int:
    scope.add(school_id)
    return school_id


def _counts(counts: SyncCounts, row: tuple[Any, ...]) -> None:
    counts.created += row[0]
    counts.updated += row[1]
    counts.returned += row[2]
    counts.unchanged += row[3]


def _ids(table: str) -> list[int]:
    return [r[0] for r in fetch(f"SELECT id FROM {table} ORDER BY id")]  # noqa: S608 (our own table names)


def _sync_pupils(job: Run, result: ImportResult, scope: list[int], *, departures: bool) -> None:
    (row,) = fetch(
        f"""SELECT count(*) FILTER (WHERE p.id IS NULL),
                   count(*) FILTER (WHERE p.id IS NOT NULL AND p.left_at IS NULL AND NOT {SAME_PUPIL}),
                   count(*) FILTER (WHERE p.left_at IS NOT NULL),
                   count(*) FILTER (WHERE p.id IS NOT NULL AND p.left_at IS NULL AND {SAME_PUPIL})
            FROM stage_pupil s LEFT JOIN directory_pupil p ON p.ine = s.ine"""  # noqa: S608
    )
    _counts(result.pupils, row)
    temp_table_as(
        "pupil_departed",
        "SELECT p.id FROM directory_pupil p WHERE p.school_id = ANY(%s) AND p.left_at IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM stage_pupil s WHERE s.ine = p.ine) AND %s",
        [scope, departures],
    )
    temp_table_as(
        "pupil_returned",
        "SELECT p.id FROM stage_pupil s JOIN directory_pupil p USING (ine) WHERE p.left_at IS NOT NULL",
    )
    temp_table_as(
        "pupil_moved",
        "SELECT p.id FROM stage_pupil s JOIN directory_pupil p USING (ine) WHERE p.school_id <> s.school_id",
    )
    departed, returned = _ids("pupil_departed"), _ids("pupil_returned")
    result.pupils.left += len(departed)
    if departures:
        (present,) = fetch(
            "SELECT count(*) FROM directory_pupil WHERE school_id = ANY(%s) AND left_at IS NULL", [scope]
        )
        result.pupils_present += present[0]
        named = fetch(
            """SELECT last_name, first_name, class_name FROM directory_pupil WHERE id IN (SELECT id FROM pupil_departed)
               ORDER BY last_name, first_name, id LIMIT %s""",
            [MAX_NAMED_DEPARTURES],
        )
        result.leaving.extend(Departure(*row) for row in named)
    moves = fetch(
        """SELECT s.ine, p.school_id, s.school_id FROM stage_pupil s JOIN directory_pupil p USING (ine)
           WHERE p.school_id <> s.school_id ORDER BY s.ine"""
    )
    transfers.audit_transfers([(ine, origin, destination) for ine, origin, destination in moves], actor=job.actor)
    off = accounts_bulk.departing_accounts(departed, [])
    back = accounts_bulk.returning_accounts(returned, [])
    update_then_insert(
        f"""UPDATE directory_pupil p SET last_name = s.last_name, first_name = s.first_name, birth_date = s.birth_date,
                   class_name = s.class_name, school_id = s.school_id, source_id = s.source_id, left_at = NULL
              FROM stage_pupil s WHERE p.ine = s.ine AND (p.left_at IS NOT NULL OR NOT {SAME_PUPIL})""",  # noqa: S608
        f"""INSERT INTO directory_pupil ({PUPIL_COLUMNS})
            SELECT ine, last_name, first_name, birth_date, class_name, school_id, source_id, NULL FROM stage_pupil s
             WHERE NOT EXISTS (SELECT 1 FROM directory_pupil p WHERE p.ine = s.ine) ORDER BY s.ine""",  # noqa: S608
        f"""INSERT INTO directory_pupil ({PUPIL_COLUMNS})
           SELECT ine, last_name, first_name, birth_date, class_name, school_id, source_id, NULL FROM stage_pupil s
            -- unchanged rows are left out before ON CONFLICT, which would lock (and so write) each of them
            WHERE NOT EXISTS (SELECT 1 FROM directory_pupil p WHERE p.ine = s.ine AND p.left_at IS NULL AND {SAME_PUPIL})
           ON CONFLICT (ine) DO UPDATE SET last_name = EXCLUDED.last_name, first_name = EXCLUDED.first_name,
               birth_date = EXCLUDED.birth_date, class_name = EXCLUDED.class_name, school_id = EXCLUDED.school_id,
               source_id = EXCLUDED.source_id, left_at = NULL
           WHERE (directory_pupil.last_name, directory_pupil.first_name, directory_pupil.birth_date,
                  directory_pupil.class_name, directory_pupil.school_id, directory_pupil.source_id,
                  directory_pupil.left_at)
               IS DISTINCT FROM (EXCLUDED.last_name, EXCLUDED.first_name, EXCLUDED.birth_date,
                  EXCLUDED.class_name, EXCLUDED.school_id, EXCLUDED.source_id, EXCLUDED.left_at)""",  # noqa: S608
        table="directory_pupil",
    )
    execute("UPDATE directory_pupil SET left_at = %s WHERE id IN (SELECT id FROM pupil_departed)", [job.now])
    result.links_removed += execute(
        "DELETE FROM directory_guardianship WHERE pupil_id IN (SELECT id FROM pupil_departed)"
    )
    # Another school's guardian records do not follow a pupil who changed school.
    result.links_removed += execute(
        """DELETE FROM directory_guardianship gs USING directory_guardian g, directory_pupil p
           WHERE gs.guardian_id = g.id AND gs.pupil_id = p.id AND p.id IN (SELECT id FROM pupil_moved)
             AND g.school_id IS NOT NULL AND g.school_id <> p.school_id"""
    )
    apply_states(result, off, back, job.now)


def _adopt_legacy(scope: list[int]) -> None:
    """Rows made before imports take the school and key the import will look them up by."""

    def taken(key: tuple[int, str]) -> bool:
        return Guardian.objects.filter(school_id=key[0], source_key=key[1]).exists()

    rows = adoptable_guardians(set(scope), taken)  # a handful at most: one query each is fine
    Guardian.objects.bulk_update(rows, ["school", "source_key"], batch_size=BATCH)


def _sync_guardians(job: Run, result: ImportResult, scope: list[int], *, departures: bool) -> None:
    _adopt_legacy(scope)
    temp_table_as(
        "stage_person",
        "SELECT DISTINCT ON (school_id, key) school_id, key, last_name, first_name, mobile, email, source_id "
        "FROM stage_guardian ORDER BY school_id, key, line",
    )
    execute("CREATE UNIQUE INDEX ON stage_person (school_id, key)")
    join = "directory_guardian g ON g.school_id = s.school_id AND g.source_key = s.key"
    (row,) = fetch(
        f"""SELECT count(*) FILTER (WHERE g.id IS NULL),
                   count(*) FILTER (WHERE g.id IS NOT NULL AND g.left_at IS NULL AND NOT {SAME_GUARDIAN}),
                   count(*) FILTER (WHERE g.left_at IS NOT NULL),
                   count(*) FILTER (WHERE g.id IS NOT NULL AND g.left_at IS NULL AND {SAME_GUARDIAN})
            FROM stage_person s LEFT JOIN {join}"""  # noqa: S608
    )
    _counts(result.guardians, row)
    temp_table_as(
        "guardian_departed",
        "SELECT g.id FROM directory_guardian g WHERE g.school_id = ANY(%s) AND g.left_at IS NULL AND %s "
        "AND NOT (g.source_key = '') AND NOT EXISTS "
        "(SELECT 1 FROM stage_person s WHERE s.school_id = g.school_id AND s.key = g.source_key)",
        [scope, departures],
    )
    temp_table_as("guardian_returned", f"SELECT g.id FROM stage_person s JOIN {join} WHERE g.left_at IS NOT NULL")  # noqa: S608
    departed, returned = _ids("guardian_departed"), _ids("guardian_returned")
    result.guardians.left += len(departed)
    off = accounts_bulk.departing_accounts([], departed)
    back = accounts_bulk.returning_accounts([], returned)
    update_then_insert(
        f"""UPDATE directory_guardian g SET last_name = s.last_name, first_name = s.first_name,
                   -- a mobile corrected in the console stays: no one is here to choose (the console asks)
                   mobile = CASE WHEN g.mobile_fixed_at IS NULL THEN s.mobile ELSE g.mobile END,
                   email = s.email, source_id = s.source_id, left_at = NULL
              FROM stage_person s WHERE g.school_id = s.school_id AND g.source_key = s.key AND NOT (g.source_key = '')
               AND (g.left_at IS NOT NULL OR NOT {SAME_GUARDIAN})""",  # noqa: S608
        f"""INSERT INTO directory_guardian ({GUARDIAN_COLUMNS})
            SELECT school_id, key, last_name, first_name, mobile, email, source_id, NULL FROM stage_person s
             WHERE NOT EXISTS (SELECT 1 FROM directory_guardian g WHERE g.school_id = s.school_id
                                 AND g.source_key = s.key AND NOT (g.source_key = ''))
             ORDER BY s.school_id, s.key""",  # noqa: S608
        f"""INSERT INTO directory_guardian ({GUARDIAN_COLUMNS})
           SELECT school_id, key, last_name, first_name, mobile, email, source_id, NULL FROM stage_person s
            WHERE NOT EXISTS (SELECT 1 FROM directory_guardian g WHERE g.school_id = s.school_id
                                AND g.source_key = s.key AND g.left_at IS NULL AND {SAME_GUARDIAN})
           ON CONFLICT (school_id, source_key) WHERE NOT (source_key = '') DO UPDATE SET
               last_name = EXCLUDED.last_name, first_name = EXCLUDED.first_name,
               -- a mobile corrected in the console stays: no one is here to choose (the console asks)
               mobile = CASE WHEN directory_guardian.mobile_fixed_at IS NULL THEN EXCLUDED.mobile
                             ELSE directory_guardian.mobile END,
               email = EXCLUDED.email, source_id = EXCLUDED.source_id, left_at = NULL
           WHERE (directory_guardian.last_name, directory_guardian.first_name, directory_guardian.mobile,
                  directory_guardian.email, directory_guardian.source_id, directory_guardian.left_at)
               IS DISTINCT FROM (EXCLUDED.last_name, EXCLUDED.first_name, EXCLUDED.mobile, EXCLUDED.email,
                  EXCLUDED.source_id, EXCLUDED.left_at)""",  # noqa: S608
        table="directory_guardian",
    )
    execute("UPDATE directory_guardian SET left_at = %s WHERE id IN (SELECT id FROM guardian_departed)", [job.now])
    temp_table_as(
        "stage_link",
        f"""SELECT g.id AS guardian_id, p.id AS pupil_id, bool_or(s.legal) AS legal
            FROM stage_guardian s JOIN {join} JOIN directory_pupil p ON p.ine = s.ine
            GROUP BY g.id, p.id""",  # noqa: S608
    )
    (links,) = fetch(
        """SELECT count(*) FILTER (WHERE gs.id IS NULL),
                  count(*) FILTER (WHERE gs.is_legal_representative <> l.legal)
           FROM stage_link l LEFT JOIN directory_guardianship gs
             ON gs.guardian_id = l.guardian_id AND gs.pupil_id = l.pupil_id"""
    )
    result.links_created += links[0]
    result.links_updated += links[1]
    if departures:
        result.links_removed += execute(
            """DELETE FROM directory_guardianship gs USING directory_guardian g
               WHERE gs.guardian_id = g.id AND g.school_id = ANY(%s) AND NOT EXISTS
                 (SELECT 1 FROM stage_link l WHERE l.guardian_id = gs.guardian_id AND l.pupil_id = gs.pupil_id)""",
            [scope],
        )
    update_then_insert(
        """UPDATE directory_guardianship gs SET is_legal_representative = l.legal FROM stage_link l
            WHERE gs.guardian_id = l.guardian_id AND gs.pupil_id = l.pupil_id
              AND gs.is_legal_representative IS DISTINCT FROM l.legal""",
        """INSERT INTO directory_guardianship (guardian_id, pupil_id, is_legal_representative)
           SELECT guardian_id, pupil_id, legal FROM stage_link l
            WHERE NOT EXISTS (SELECT 1 FROM directory_guardianship gs
                               WHERE gs.guardian_id = l.guardian_id AND gs.pupil_id = l.pupil_id)
            ORDER BY guardian_id, pupil_id""",
        """INSERT INTO directory_guardianship (guardian_id, pupil_id, is_legal_representative)
           SELECT guardian_id, pupil_id, legal FROM stage_link l
            WHERE NOT EXISTS (SELECT 1 FROM directory_guardianship gs WHERE gs.guardian_id = l.guardian_id
                                AND gs.pupil_id = l.pupil_id AND gs.is_legal_representative = l.legal)
           ON CONFLICT (guardian_id, pupil_id) DO UPDATE SET is_legal_representative = EXCLUDED.is_legal_representative
           WHERE directory_guardianship.is_legal_representative IS DISTINCT FROM EXCLUDED.is_legal_representative""",
        table="directory_guardianship",
    )
    apply_states(result, off, back, job.now)
