"""Send the activation letter emails whose time has come: retries after a temporary failure, tasks lost.

Run it from cron (or beside `deliver_pending`); each pass claims rows one by one, so several may run.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from trousseau.console.services.letter_emails import send_due


class Command(BaseCommand):
    help = "One pass over the pending activation letter emails that are due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="rows tried in this pass (default 500)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{send_due(limit=options['limit'])} letter email(s) tried")
