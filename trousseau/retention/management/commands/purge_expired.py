"""`manage.py purge_expired [--dry-run]`: delete what has outlived its purpose (the deployment's daily CronJob)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from trousseau.retention.services import purge_expired, reasons


class Command(BaseCommand):
    help = "Delete, in batches, the rows past their retention (flows, codes, deliveries, letters' secrets, audit…)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
        parser.add_argument("--batch-size", type=int, default=None, help="rows per DELETE (RETENTION_BATCH_SIZE)")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        counts = purge_expired(dry_run=dry_run, batch_size=options["batch_size"])
        verb = "would purge" if dry_run else "purged"
        why = reasons()
        for name, count in counts.items():
            self.stdout.write(f"{name}: {verb} {count} ({why[name]})")
