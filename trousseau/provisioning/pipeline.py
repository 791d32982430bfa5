"""The steps every import shares: reading and checking rows with progress, the ORM sync, account states.

`run_orm` is the import on any database (the console's path, and the command line on SQLite);
pg_sync.py is the command line's path on PostgreSQL. Both take a Run and fill an ImportResult.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.utils.translation import gettext

from trousseau.accounts.models import AccountGuardian
from trousseau.directory.importers import orm_sync
from trousseau.directory.importers.batches import chunked
from trousseau.directory.importers.reading import Record
from trousseau.directory.importers.report import (
    COMPLETE,
    PROGRESS_EVERY,
    DepartureGuard,
    ImportFileError,
    ImportProgress,
    ImportResult,
    ProgressCallback,
)
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
from trousseau.directory.models import Pupil, School, SchoolLevel
from trousseau.provisioning import accounts_bulk, transfers

T = TypeVar("T")


@dataclass(frozen=True)
class Run:
    school: SchoolRef | None
    dry_run: bool
    partial: bool
    progress: ProgressCallback | None
    now: datetime
    mode: str = COMPLETE
    # None: departures need no confirmation (the command line); else what the person confirmed.
    guard: DepartureGuard | None = None
    # Guardians whose mobile corrected in the console gives way to the file's (the person chose so).
    file_mobiles: frozenset[int] = frozenset()
    actor: str = ""
    max_bytes: int | None = None  # each file's size cap (None: none, the command line)

    @property
    def departures(self) -> bool:
        return self.mode == COMPLETE


def report_progress(run: Run, phase: str, rows: int, source: Stream | None) -> None:
    if run.progress is not None:
        run.progress(ImportProgress(phase, rows, source.bytes_read if source else 0, source.size if source else None))


def school_index() -> dict[str, SchoolRef]:
    return {
        uai: SchoolRef(pk, uai, level == SchoolLevel.ECOLE)
        for pk, uai, level in School.objects.values_list("pk", "uai", "level")
    }


def checked_rows(
    run: Run, result: ImportResult, source: Stream, phase: str, checker: Callable[[Record], T | None]
) -> Iterator[T]:
    """The rows of one field's files that pass their checks, with progress reported as they are read."""
    report_progress(run, phase, result.rows, source)
    records: Iterable[Record] = source.records(result.add_error)
    read = 0
    for record in records:
        read += 1
        result.rows += 1
        row = checker(record)
        if row is not None:
            yield row
        if result.rows % PROGRESS_EVERY == 0:
            report_progress(run, phase, result.rows, source)
    if not read:
        # A header alone must not read as "nobody is here any more".
        raise ImportFileError(empty_file_message(phase))
    result.encodings[phase] = source.encoding


def empty_file_message(phase: str) -> str:
    if phase == PUPILS:
        return gettext("Le fichier des élèves ne contient aucune ligne d'élève : rien n'a été importé.")
    return gettext("Le fichier des responsables ne contient aucune ligne de responsable : rien n'a été importé.")


def pupil_checker(run: Run, result: ImportResult) -> PupilChecker:
    schools = {run.school.uai: run.school} if run.school else school_index()
    return PupilChecker(result.add_error, schools, school=run.school)


def present_pupils(run: Run) -> dict[str, int]:
    """INE -> school of the pupils a guardians file may name when it comes without a pupils file."""
    query = Pupil.objects.filter(left_at=None)
    if run.school:
        query = query.filter(school_id=run.school.id)
    return dict(query.values_list("ine", "school_id").iterator(chunk_size=10_000))


def run_orm(run: Run, result: ImportResult, pupils: Stream | None, guardians: Stream | None) -> None:
    pupil_rows: list[PupilRow] = []
    known: Mapping[str, int]
    refused: set[str] = set()
    if pupils is not None:
        pupil_rows, known, refused = _pupil_rows(run, result, pupils)
    else:
        known = present_pupils(run)
    guardian_rows: list[GuardianRow] = []
    if guardians is not None:
        checker = GuardianChecker(result.add_error, known, refused=refused)
        guardian_rows = list(checked_rows(run, result, guardians, GUARDIANS, checker))
    if not result.ok and not run.partial:
        return
    result.mode = run.mode
    result.departures_skipped = not result.ok
    departures = result.ok and run.departures
    scope = scope_of(run, pupil_rows, guardian_rows)
    class_of = classes_of(pupil_rows, guardian_rows)
    report_progress(run, "ecriture", result.rows, None)
    leaving: list[int] = []
    pupil_plan = None
    if pupils is not None:
        pupil_plan = orm_sync.plan_pupils(pupil_rows, scope, departures=departures, result=result)
        leaving = pupil_plan.departed
    guardian_plan = None
    if guardians is not None and (run.dry_run or pupil_plan is None):
        guardian_plan = orm_sync.plan_guardians(
            guardian_rows,
            scope,
            departures=departures,
            leaving_pupils=leaving,
            result=result,
            file_mobiles=run.file_mobiles,
            class_of=class_of,
        )
    if run.dry_run:
        preview_accounts(result, scope, pupil_plan, guardian_plan)
        return
    if pupil_plan is not None:
        off = accounts_bulk.departing_accounts(pupil_plan.departed, [])
        back = accounts_bulk.returning_accounts(pupil_plan.returned, [])
        orm_sync.apply_pupils(pupil_plan, now=run.now)
        transfers.audit_transfers(pupil_plan.transfers, actor=run.actor)
        apply_states(result, off, back, run.now)
        if guardians is not None:
            guardian_plan = orm_sync.plan_guardians(
                guardian_rows,
                scope,
                departures=departures,
                leaving_pupils=leaving,
                result=result,
                file_mobiles=run.file_mobiles,
                class_of=class_of,
            )
    if guardian_plan is not None:
        off = accounts_bulk.departing_accounts([], guardian_plan.departed)
        back = accounts_bulk.returning_accounts([], guardian_plan.returned)
        orm_sync.apply_guardians(guardian_plan, now=run.now)
        apply_states(result, off, back, run.now)
    accounts_bulk.rename_accounts(scope, now=run.now)
    result.accounts_created += accounts_bulk.create_accounts(
        accounts_bulk.pupils_without_account(scope), accounts_bulk.guardians_without_account(scope), now=run.now
    )
    transfers.check_departures(run.guard, result)
    result.applied = True


def _pupil_rows(run: Run, result: ImportResult, pupils: Stream) -> tuple[list[PupilRow], dict[str, int], set[str]]:
    """The pupils file's rows this import may take, INE -> school for the guardians file, the refused INEs."""
    checker = pupil_checker(run, result)
    rows = list(checked_rows(run, result, pupils, PUPILS, checker))
    if run.school:
        rows = transfers.refuse_foreign_pupils(run.school, rows, result, checker.ine_school)
    return rows, checker.ine_school, checker.refused


def classes_of(pupil_rows: list[PupilRow], guardian_rows: list[GuardianRow]) -> dict[str, str]:
    """INE -> class of the pupils the guardians' rows name: the file's, else the directory's (for the preview)."""
    classes = {r.ine: r.class_name for r in pupil_rows}
    missing = {r.ine for r in guardian_rows} - classes.keys()
    for chunk in chunked(sorted(missing)):
        classes.update(Pupil.objects.filter(ine__in=chunk).values_list("ine", "class_name"))
    return classes


def scope_of(run: Run, pupil_rows: list[PupilRow], guardian_rows: list[GuardianRow]) -> set[int]:
    """The schools this import speaks for: departures are computed there only."""
    if run.school:
        return {run.school.id}
    if pupil_rows:
        return {r.school_id for r in pupil_rows}
    return {r.school_id for r in guardian_rows}


def apply_states(result: ImportResult, off: list[int], back: list[int], now: datetime) -> None:
    accounts_bulk.disable_accounts(off, now=now)
    accounts_bulk.enable_accounts(back, now=now)
    result.accounts_disabled += len(off)
    result.accounts_enabled += len(back)


def preview_accounts(
    result: ImportResult,
    scope: set[int],
    pupil_plan: orm_sync.PupilPlan | None,
    guardian_plan: orm_sync.GuardianPlan | None,
) -> None:
    """The account counts of a dry run: what the real import would create, disable and enable."""
    primary = set(School.objects.filter(pk__in=scope, level=SchoolLevel.ECOLE).values_list("pk", flat=True))
    leaving_pupils = set(pupil_plan.departed) if pupil_plan else set()
    waiting = [p for p, _, _ in accounts_bulk.pupils_without_account(scope) if p not in leaving_pupils]
    result.accounts_created += len(waiting)
    if pupil_plan:
        result.accounts_created += sum(1 for p in pupil_plan.create if p.school_id not in primary)
    off = set(accounts_bulk.departing_accounts(pupil_plan.departed if pupil_plan else [], []))
    back = set(accounts_bulk.returning_accounts(pupil_plan.returned if pupil_plan else [], []))
    if guardian_plan:
        result.accounts_created += sum(1 for links in guardian_plan.new_links.values() if any(links.values()))
        with_account = set(
            AccountGuardian.objects.filter(guardian_id__in=list(guardian_plan.links)).values_list(
                "guardian_id", flat=True
            )
        )
        result.accounts_created += sum(
            1 for g, links in guardian_plan.links.items() if g not in with_account and any(links.values())
        )
        off |= set(accounts_bulk.departing_accounts([], guardian_plan.departed))
        back |= set(accounts_bulk.returning_accounts([], guardian_plan.returned))
    result.accounts_disabled, result.accounts_enabled = len(off), len(back)
