"""Writes on the directory: imports of school records (SIECLE/ONDE exports) and the retention purge.

The console calls these with an uploaded file and its staff member's school; the command line
(`manage.py import_records`) calls `import_records` with académie-sized files and no school. Formats:
docs/import-format.md. Every import is one transaction: a file with an error changes nothing (unless
`partial=True`), and importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from trousseau.accounts.models import Account, AccountKind, AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.directory.importers.batches import chunked
from trousseau.directory.importers.report import (
    ADDITIONS,
    COMPLETE,
    DepartureGuard,
    DeparturesNotConfirmed,
    ImportFileError,
    ImportProgress,
    ImportResult,
    ImportTooLarge,
    ProgressCallback,
    RowError,
    SyncCounts,
    result_from_json,
    result_to_json,
)
from trousseau.directory.importers.rows import SchoolRef
from trousseau.directory.importers.sources import Found, open_found, recognise_files
from trousseau.directory.models import Guardian, Pupil, School, SchoolLevel
from trousseau.provisioning import unchanged
from trousseau.provisioning.pipeline import Run, report_progress, run_orm
from trousseau.provisioning.transfers import large_departure

__all__ = [
    "ADDITIONS",
    "COMPLETE",
    "DepartureGuard",
    "DeparturesNotConfirmed",
    "ImportFileError",
    "ImportProgress",
    "ImportResult",
    "ImportTooLarge",
    "ProgressCallback",
    "RowError",
    "SyncCounts",
    "import_guardians",
    "import_pupils",
    "import_records",
    "large_departure",
    "purge_departed",
    "result_from_json",
    "result_to_json",
]

# One file, or several for one field (the command line's académie: one SIECLE pair per school).
Files = IO[bytes] | list[IO[bytes]] | tuple[IO[bytes], ...] | None

IMPORT_LOCK = 7_436_000_000  # advisory lock keys: this one for the académie, + school id per school


def import_pupils(  # noqa: PLR0913 - the import's options, all keyword-only
    file: IO[bytes],
    *,
    school: School | None = None,
    dry_run: bool = False,
    partial: bool = False,
    progress: ProgressCallback | None = None,
    actor: str = "",
) -> ImportResult:
    """Import a pupils file (docs/import-format.md); see `import_records`."""
    return import_records(pupils=file, school=school, dry_run=dry_run, partial=partial, progress=progress, actor=actor)


def import_guardians(  # noqa: PLR0913 - the import's options, all keyword-only
    file: IO[bytes],
    *,
    school: School | None = None,
    dry_run: bool = False,
    partial: bool = False,
    progress: ProgressCallback | None = None,
    actor: str = "",
) -> ImportResult:
    """Import a guardians-and-links file; the pupils it names must already be in the directory."""
    return import_records(
        guardians=file, school=school, dry_run=dry_run, partial=partial, progress=progress, actor=actor
    )


def import_records(  # noqa: PLR0913 - the import's options, all keyword-only
    *,
    pupils: Files = None,
    guardians: Files = None,
    school: School | None = None,
    dry_run: bool = False,
    partial: bool = False,
    progress: ProgressCallback | None = None,
    actor: str = "",
    max_bytes: int | None = -1,
    bulk_copy: bool = False,
    mode: str = COMPLETE,
    guard: DepartureGuard | None = None,
    file_mobiles: frozenset[int] = frozenset(),
    reread_unchanged: bool = False,
) -> ImportResult:
    """Sync one school's records (or, with `school=None`, every school the files name) with the files.

    - `school`: the staff member's school; rows of another school are refused. None: the command line.
    - `dry_run`: read, check and count, write nothing; the result is the preview of the real import.
    - `partial`: apply the valid rows even if others are refused; departures are then not applied.
    - `progress`: called with an ImportProgress every PROGRESS_EVERY rows and at each phase.
    - `max_bytes`: size cap of each file, IMPORT_MAX_UPLOAD_BYTES by default (-1); None: no cap.
    - `bulk_copy`: on PostgreSQL, COPY into staging tables and set-based upserts (the command line).
    - `mode`: COMPLETE (the files are the whole list: who is absent leaves) or ADDITIONS (nobody leaves).
    - `guard`: the departures the person confirmed (the console); a real import whose departures differ,
      or remove more than IMPORT_DEPARTURE_SHARE_LIMIT of the pupils unconfirmed, raises
      DeparturesNotConfirmed and changes nothing. None: no confirmation (the command line).
    - `file_mobiles`: guardians whose mobile corrected in the console gives way to the file's.
    - `reread_unchanged`: with `bulk_copy`, read even the schools whose files and records are as their
      last import left them (by default those are left out: provisioning/unchanged.py).
    Raises ImportFileError (ImportTooLarge for the cap) when a file cannot be read at all.
    """
    if max_bytes == -1:
        max_bytes = settings.IMPORT_MAX_UPLOAD_BYTES
    ref = SchoolRef(school.pk, school.uai, school.level == SchoolLevel.ECOLE) if school else None
    if mode not in {COMPLETE, ADDITIONS}:
        msg = f"unknown import mode {mode!r}"
        raise ValueError(msg)
    run = Run(ref, dry_run, partial, progress, timezone.now(), mode, guard, file_mobiles, actor, max_bytes)
    result = ImportResult(dry_run=dry_run)
    try:
        with transaction.atomic():
            _lock(ref)
            found = recognise_files(_files(pupils), _files(guardians), school_uai=ref.uai if ref else "")
            _sync(run, result, found, bulk=bulk_copy and connection.vendor == "postgresql", reread=reread_unchanged)
    except ImportFileError as exc:
        if not dry_run:
            AuditEvent.objects.create(
                tag=EventTag.DIRECTORY_IMPORT_REFUSED,
                data={"error": str(exc), "actor": actor, "school": ref.uai if ref else ""},
            )
        raise
    if not dry_run:
        tag = EventTag.DIRECTORY_IMPORT_APPLIED if result.applied else EventTag.DIRECTORY_IMPORT_REFUSED
        AuditEvent.objects.create(tag=tag, data={**result.as_dict(), "actor": actor, "school": ref.uai if ref else ""})
    report_progress(run, "termine", result.rows, None)
    return result


def _sync(run: Run, result: ImportResult, found: Found, *, bulk: bool, reread: bool) -> None:
    """Open the files and sync; on PostgreSQL (`bulk`), unchanged schools are left out and the others remembered."""
    sorted_out = unchanged.Sorted(found, [], {})
    if bulk and reread:
        sorted_out = unchanged.Sorted(found, [], unchanged.files_digests(found, mode=run.mode))
    elif bulk:
        sorted_out = unchanged.leave_out_unchanged(found, mode=run.mode)
        result.left_out = sorted_out.left_out
    uai = run.school.uai if run.school else ""
    if not sorted_out.found:
        result.mode = run.mode
        result.applied = not run.dry_run  # every school as its last import left it: nothing to do
    elif bulk:
        from trousseau.provisioning import pg_sync  # noqa: PLC0415 (PostgreSQL only)

        pg_sync.run(run, result, *open_found(sorted_out.found, school_uai=uai, max_bytes=run.max_bytes))
        # A dry run on this path did the whole import: it is undone here.
        transaction.set_rollback(run.dry_run)
    else:
        run_orm(run, result, *open_found(sorted_out.found, school_uai=uai, max_bytes=run.max_bytes))
    if bulk and not run.dry_run:
        if result.applied and result.ok:
            unchanged.remember(sorted_out.digests, now=run.now)
        else:
            unchanged.forget(sorted_out.digests)


def _files(files: Files) -> list[IO[bytes]]:
    if files is None:
        return []
    return list(files) if isinstance(files, list | tuple) else [files]


def _lock(school: SchoolRef | None) -> None:
    """On PostgreSQL, one import per school at a time, and none beside an académie-wide one.

    A school's import holds its school's lock and shares the académie lock, which the command line
    takes alone; a second import waits for the first and then sees what it wrote. (SQLite runs one
    writer at a time anyway.)
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if school is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
        else:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [IMPORT_LOCK])
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK + school.id])


@transaction.atomic
def purge_departed(*, now: datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Delete directory rows (and their disabled accounts) that left more than DIRECTORY_RETENTION_DAYS ago."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DIRECTORY_RETENTION_DAYS)
    pupils = Pupil.objects.filter(left_at__lt=cutoff)
    guardians = Guardian.objects.filter(left_at__lt=cutoff)
    pupil_accounts = Account.objects.filter(pupil__in=pupils, state=AccountState.DISABLED)
    # A guardian account goes only when every record it speaks for goes.
    guardian_accounts = Account.objects.filter(
        kind=AccountKind.GUARDIAN, state=AccountState.DISABLED, guardian_links__guardian__in=guardians
    ).exclude(guardian_links__guardian__in=Guardian.objects.exclude(left_at__lt=cutoff))
    counts = {
        "pupils": pupils.count(),
        "guardians": guardians.count(),
        "accounts": pupil_accounts.count() + guardian_accounts.distinct().count(),
    }
    if not dry_run:
        account_ids = [*pupil_accounts.values_list("pk", flat=True), *guardian_accounts.values_list("pk", flat=True)]
        for chunk in chunked(sorted(set(account_ids))):
            Account.objects.filter(pk__in=chunk).delete()
        guardians.delete()
        pupils.delete()
        if any(counts.values()):
            AuditEvent.objects.create(
                tag=EventTag.DIRECTORY_RETENTION_PURGED, data={**counts, "cutoff": cutoff.isoformat()}
            )
    return counts
