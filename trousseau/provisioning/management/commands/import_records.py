"""`manage.py import_records --pupils FILE… --guardians FILE… [--school UAI] [--dry-run] [--additions]`.

Académie-sized imports: Trousseau's own CSV/XML files, or the schools' SIECLE exports as downloaded
(.zip or .xml, one pair per school, as many as the académie has), or an école's ONDE extractions with
`--school`. The files are the complete lists of the schools they name unless `--additions` says
otherwise; the académie sees every school, so it also moves pupils between schools (audited for both).
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from trousseau.directory.importers.report import ImportProgress, ImportResult
from trousseau.directory.models import School
from trousseau.provisioning.services import ADDITIONS, COMPLETE, ImportFileError, import_records

NAMED_LEFT_OUT = 10  # the UAIs printed of the schools left out


class Command(BaseCommand):
    help = (
        "Import SIECLE/ONDE exports (docs/import-format.md) for every school they name. On PostgreSQL the "
        "rows go through COPY into staging tables and set-based upserts; elsewhere through batched writes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--pupils", type=Path, nargs="+", default=[], help="pupils files (SIECLE .zip/.xml, ONDE or own CSV/XML)"
        )
        parser.add_argument(
            "--guardians", type=Path, nargs="+", default=[], help="guardians and links files (same formats)"
        )
        parser.add_argument(
            "--school",
            metavar="UAI",
            help="import for this school only, as its staff would in the console (needed for ONDE extractions)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        parser.add_argument("--partial", action="store_true", help="apply valid rows despite refused ones")
        parser.add_argument(
            "--additions",
            action="store_true",
            help="the files hold additions and changes only: nobody leaves (default: complete lists, "
            "whoever is absent from a school the files name leaves it)",
        )
        parser.add_argument(
            "--reread-unchanged",
            action="store_true",
            help="on PostgreSQL, read every school's files, even those that are the files of the school's last "
            "import with its records unchanged since (by default those are left out: nothing would change)",
        )
        parser.add_argument("--max-errors", type=int, default=50, help="row errors to print")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["pupils"] and not options["guardians"]:
            msg = "give --pupils FILE, --guardians FILE or both"
            raise CommandError(msg)
        started = time.monotonic()
        school = None
        if options["school"]:
            school = School.objects.filter(uai=options["school"].strip().upper()).first()
            if school is None:
                msg = f"no school with UAI {options['school']!r}"
                raise CommandError(msg)
        with ExitStack() as stack:
            files = {
                name: [stack.enter_context(path.open("rb")) for path in options[name]]
                for name in ("pupils", "guardians")
            }
            try:
                result = import_records(
                    pupils=files["pupils"] or None,
                    guardians=files["guardians"] or None,
                    school=school,
                    dry_run=options["dry_run"],
                    partial=options["partial"],
                    progress=self._progress if options["verbosity"] > 1 else None,
                    actor="manage.py import_records",
                    max_bytes=None,
                    bulk_copy=True,
                    mode=ADDITIONS if options["additions"] else COMPLETE,
                    reread_unchanged=options["reread_unchanged"],
                )
            except ImportFileError as exc:
                raise CommandError(str(exc)) from exc
        self._summary(result, options["max_errors"], time.monotonic() - started)
        if not result.ok and not options["partial"]:
            msg = f"{result.error_count} refused rows: nothing was imported"
            raise CommandError(msg)

    def _progress(self, progress: ImportProgress) -> None:
        share = f" {progress.fraction:.0%}" if progress.fraction is not None else ""
        self.stderr.write(f"{progress.phase}: {progress.rows} rows{share}")

    def _summary(self, result: ImportResult, max_errors: int, seconds: float) -> None:
        for error in result.errors[:max_errors]:
            who = f"{error.who}: " if error.who else ""
            self.stderr.write(f"{error.file} line {error.line} [{error.field}]: {who}{error.reason}")
        if result.error_count > max_errors:
            self.stderr.write(f"... and {result.error_count - max_errors} more")
        mode = "dry run (nothing written)" if result.dry_run else ("applied" if result.applied else "not applied")
        mode += ", complete lists" if result.mode == COMPLETE else ", additions and changes only (nobody leaves)"
        engine = "COPY + set-based upserts" if connection.vendor == "postgresql" else "batched ORM writes"
        p, g = result.pupils, result.guardians
        encodings = f" ({', '.join(result.encodings.values())})" if result.encodings else ""
        self.stdout.write(
            f"{mode}, {engine}, {result.rows} rows in {seconds:.1f}s{encodings}\n"
            f"pupils: {p.created} created, {p.updated} updated, {p.unchanged} unchanged, {p.left} left, "
            f"{p.returned} returned\n"
            f"guardians: {g.created} created, {g.updated} updated, {g.unchanged} unchanged, {g.left} left, "
            f"{g.returned} returned\n"
            f"links: {result.links_created} created, {result.links_updated} updated, {result.links_removed} removed\n"
            f"accounts: {result.accounts_created} created, {result.accounts_disabled} disabled, "
            f"{result.accounts_enabled} enabled; errors: {result.error_count}"
            + ("; departures not applied (refused rows)" if result.departures_skipped else "")
        )
        if result.left_out:
            named = ", ".join(result.left_out[:NAMED_LEFT_OUT]) + (
                ", …" if len(result.left_out) > NAMED_LEFT_OUT else ""
            )
            self.stdout.write(
                f"{len(result.left_out)} schools left out, their files and records as their last import left "
                f"them ({named}): --reread-unchanged reads them anyway"
            )
