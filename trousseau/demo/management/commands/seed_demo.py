from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.urls import reverse

from trousseau.demo.services import build_demo, write_credentials
from trousseau.demo.staff import build_demo_staff, write_staff
from trousseau.directory.models import School


class Command(BaseCommand):
    help = (
        "Create the demo académie by importing its schools' exports (written to var/demo/exports/) and write "
        "its letters to var/demo/credentials.csv."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pupils", type=int, default=200)
        parser.add_argument("--credentials", type=Path, default=settings.BASE_DIR / "var" / "demo" / "credentials.csv")
        parser.add_argument(
            "--exports",
            type=Path,
            default=None,
            help="where the schools' SIECLE and ONDE exports are written (default: exports/ beside the credentials)",
        )
        parser.add_argument(
            "--staff", type=Path, default=None, help="console staff CSV (default: staff.csv beside the credentials)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if School.objects.exists():
            self.stdout.write("The demo académie already exists; nothing to do.")
            return
        exports_folder = options["exports"] or Path(options["credentials"]).with_name("exports")
        letters = build_demo(pupils=options["pupils"], exports_folder=exports_folder)
        self.stdout.write(
            f"Schools' exports (SIECLE, ONDE) written to {exports_folder} and imported; "
            "import them again with manage.py import_records or the console"
        )
        write_credentials(letters, options["credentials"])
        self.stdout.write(f"{len(letters)} letters written to {options['credentials']}")
        staff_path = options["staff"] or Path(options["credentials"]).with_name("staff.csv")
        console_url = settings.PUBLIC_URL.rstrip("/") + reverse("console:login")
        write_staff(build_demo_staff(), staff_path, console_url=console_url)
        self.stdout.write(f"Console staff (password + TOTP secret) written to {staff_path}; console: {console_url}")
