"""`manage.py purge_directory [--dry-run]`: the retention rule (DIRECTORY_RETENTION_DAYS) applied."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from trousseau.provisioning.services import purge_departed


class Command(BaseCommand):
    help = "Delete pupils and guardians who left more than DIRECTORY_RETENTION_DAYS ago, with their disabled accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = purge_departed(dry_run=options["dry_run"])
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(
            f"{verb} {counts['pupils']} pupils, {counts['guardians']} guardians, {counts['accounts']} accounts "
            f"(left more than {settings.DIRECTORY_RETENTION_DAYS} days ago)"
        )
