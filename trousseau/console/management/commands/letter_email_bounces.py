"""Read delivery status notifications (RFC 3464) from a Maildir or an mbox and mark the letter emails they return.

Point it at the mailbox that receives the envelope sender's mail (LETTER_EMAIL_BOUNCE_ADDRESS, or the
From address, with `+<token>` added): a cron job after the MTA's delivery, for instance. Running it
twice over the same mailbox changes nothing more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trousseau.console.services.letter_bounces import read_bounces


class Command(BaseCommand):
    help = "Mark bounced the activation letter emails that the DSNs of a Maildir (directory) or mbox (file) report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mailbox", type=Path, help="a Maildir directory or an mbox file")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["mailbox"]
        if not path.exists():
            raise CommandError(f"{path}: no such Maildir or mbox")
        result = read_bounces(path)
        self.stdout.write(
            f"{result.read} message(s) read: {result.bounced} letter email(s) marked bounced, "
            f"{result.not_failures} not a failure report, {len(result.unknown)} failure(s) naming no sent letter email"
        )
