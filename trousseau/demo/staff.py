"""The demo's console staff: a secretary per demo school and an académie operator, already enrolled.

Their passwords and TOTP secrets are written to staff.csv beside the letters, so a tester logs in at once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from trousseau.console import totp
from trousseau.console.models import StaffRole
from trousseau.console.services.staff import staff_create_enrolled
from trousseau.core.secrets import provisional_password
from trousseau.demo.services import ACADEMIE, SCHOOLS
from trousseau.directory.models import School

STAFF_CSV_COLUMNS = ["role", "email", "password", "totp_secret", "school_uai", "academie", "console_url"]


@dataclass
class DemoStaff:
    """A console staff member of the demo, already enrolled: their password and TOTP secret are known."""

    role: str
    email: str
    password: str
    totp_secret: str
    school_uai: str
    academie: str

    def row(self, console_url: str) -> list[str]:
        return [self.role, self.email, self.password, self.totp_secret, self.school_uai, self.academie, console_url]


@transaction.atomic
def build_demo_staff() -> list[DemoStaff]:
    """A secretary per demo school and an académie operator, enrolled with a password and a TOTP secret."""
    schools = School.objects.filter(uai__in=[uai for uai, *_ in SCHOOLS]).order_by("uai")
    made = [
        DemoStaff(
            StaffRole.SECRETARIAT,
            f"secretariat.{school.uai.lower()}@demo.trousseau.localhost",
            provisional_password(16),
            totp.new_secret(),
            school.uai,
            school.academie,
        )
        for school in schools
    ]
    made.append(
        DemoStaff(
            StaffRole.ACADEMIE,
            f"operateur.{ACADEMIE.lower()}@demo.trousseau.localhost",
            provisional_password(16),
            totp.new_secret(),
            "",
            ACADEMIE,
        )
    )
    for staff in made:
        local = staff.email.split("@")[0]
        staff_create_enrolled(
            email=staff.email,
            first_name=local.split(".")[0].title(),
            last_name=local.split(".")[1].upper(),
            role=StaffRole(staff.role),
            password=staff.password,
            totp_secret=staff.totp_secret,
            school=School.objects.get(uai=staff.school_uai) if staff.school_uai else None,
            academie=staff.academie,
        )
    return made


def write_staff(staff: list[DemoStaff], path: Path, *, console_url: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(STAFF_CSV_COLUMNS)
        writer.writerows(member.row(console_url) for member in staff)
