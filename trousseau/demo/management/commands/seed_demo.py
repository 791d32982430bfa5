from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from trousseau.demo.services import build_demo, write_credentials
from trousseau.directory.models import School


class Command(BaseCommand):
    help = "Create the demo académie and write its letters to var/demo/credentials.csv."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pupils", type=int, default=200)
        parser.add_argument("--credentials", type=Path, default=settings.BASE_DIR / "var" / "demo" / "credentials.csv")

    def handle(self, *args: Any, **options: Any) -> None:
        if School.objects.exists():
            self.stdout.write("The demo académie already exists; nothing to do.")
            return
        letters = build_demo(pupils=options["pupils"])
        write_credentials(letters, options["credentials"])
        self.stdout.write(f"{len(letters)} letters written to {options['credentials']}")
