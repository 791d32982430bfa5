"""Builds a small académie: three schools, families with siblings across classes and schools.

Deterministic (index arithmetic, no `random`), so a tester finds the same shapes every time; only
the provisional passwords are drawn, with `secrets`, when the letters are issued.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.db import transaction

from trousseau.accounts.models import Account
from trousseau.accounts.services import account_create_for_guardian, account_create_for_pupil, letter_issue
from trousseau.console import totp
from trousseau.console.models import StaffRole
from trousseau.console.services.staff import staff_create_enrolled
from trousseau.core.secrets import provisional_password
from trousseau.directory.models import Guardian, Guardianship, Pupil, School, SchoolLevel

FIRST_NAMES = [
    "Léa",
    "Lucas",
    "Chloé",
    "Hugo",
    "Inès",
    "Nathan",
    "Zoé",
    "Adam",
    "Manon",
    "Yanis",
    "Élodie",
    "Théo",
    "Aïcha",
    "Noé",
    "Camille",
    "Mohamed",
    "Jade",
    "Louis",
    "Anaïs",
    "Gabriel",
    "Maëlys",
    "Sacha",
    "Emma",
    "Rayan",
]
PARENT_FIRST_NAMES = [
    "Sophie",
    "Karim",
    "Nathalie",
    "Stéphane",
    "Fatou",
    "Jérôme",
    "Isabelle",
    "Mehdi",
    "Céline",
    "François",
    "Aurélie",
    "Olivier",
    "Hélène",
    "Rachid",
    "Valérie",
    "Sébastien",
    "Amélie",
    "Thierry",
    "Leïla",
    "Frédéric",
]
LAST_NAMES = [
    "Dupont",
    "Martin",
    "Bernard",
    "N'Diaye",
    "Le Gall",
    "Dupont-Moreau",
    "Lefèvre",
    "Garcia",
    "Nguyen",
    "Roux",
    "Fontaine",
    "Benali",
    "Mercier",
    "Da Silva",
    "Lambert",
    "Bonnet",
    "Girard",
    "Chevalier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Perrin",
    "Morel",
    "Gauthier",
    "Diallo",
    "Leroy",
    "Colin",
]
SCHOOLS = [
    ("0141234A", "École élémentaire Jules-Ferry", SchoolLevel.ECOLE, ["CP", "CE1", "CE2", "CM1", "CM2"], 2015),
    ("0145678B", "Collège Jean-Moulin", SchoolLevel.COLLEGE, ["6e A", "5e B", "4e A", "3e C"], 2011),
    ("0149012C", "Lycée Marie-Curie", SchoolLevel.LYCEE, ["2nde 1", "1re G2", "Tle G1"], 2008),
]
ACADEMIE = "Normandie"
CSV_COLUMNS = [
    "kind",
    "identifier",
    "provisional_password",
    "last_name",
    "first_name",
    "birth_date",
    "phone",
    "school_uai",
]


@dataclass
class Letter:
    kind: str
    account: Account
    password: str
    birth_date: date
    phone: str
    school_uai: str

    def row(self) -> list[str]:
        a = self.account
        return [
            self.kind,
            a.identifier,
            self.password,
            a.last_name,
            a.first_name,
            self.birth_date.isoformat(),
            self.phone,
            self.school_uai,
        ]


def _mobile(n: int) -> str:
    return f"+3361{(n * 7919) % 10_000_000:07d}"


def _birth_date(first_year: int, n: int, span_years: int) -> date:
    return date(first_year, 1, 1) + timedelta(days=(n * 137) % (365 * span_years))


@transaction.atomic
def build_demo(*, pupils: int = 200) -> list[Letter]:
    """Create the académie; returns the letters issued (guardians first, then pupils)."""
    schools = [School.objects.create(uai=u, name=n, level=lvl, academie=ACADEMIE) for u, n, lvl, _, _ in SCHOOLS]
    letters: list[Letter] = []
    pupil_no = 0
    family = 0
    while pupil_no < pupils:
        last_name = LAST_NAMES[family % len(LAST_NAMES)]
        # Families of 1, 2 or 3 children; every fourth family spans two schools (two letters per parent).
        size = 1 + family % 3
        children: list[Pupil] = []
        for k in range(size):
            s = (family + (k if family % 4 == 0 else 0)) % len(SCHOOLS)
            uai, _, _, classes, first_year = SCHOOLS[s]
            span = 5 if s == 0 else 4 if s == 1 else 3
            child = Pupil.objects.create(
                ine=f"{100000000 + pupil_no:09d}{'AB'[pupil_no % 2]}{'K'}",
                last_name=last_name,
                first_name=FIRST_NAMES[(pupil_no * 5 + k) % len(FIRST_NAMES)],
                birth_date=_birth_date(first_year, pupil_no + k * 400, span),
                school=schools[s],
                class_name=classes[(pupil_no + k) % len(classes)],
            )
            children.append(child)
            pupil_no += 1
        parents = 1 if family % 5 == 0 else 2
        for p in range(parents):
            first = PARENT_FIRST_NAMES[(family * 2 + p) % len(PARENT_FIRST_NAMES)]
            phone = _mobile(family * 2 + p + 1)
            # One guardian record per school the family's children attend, as each school records it.
            for school in sorted({c.school_id for c in children}):
                mine = [c for c in children if c.school_id == school]
                guardian = Guardian.objects.create(last_name=last_name, first_name=first, mobile=phone)
                Guardianship.objects.bulk_create([Guardianship(guardian=guardian, pupil=c) for c in mine])
                account = account_create_for_guardian(guardian=guardian)
                _, password = letter_issue(account=account)
                uai = mine[0].school.uai
                letters.append(Letter("guardian", account, password, mine[0].birth_date, phone, uai))
        family += 1
    for pupil in Pupil.objects.select_related("school").exclude(school__level=SchoolLevel.ECOLE).order_by("pk"):
        account = account_create_for_pupil(pupil=pupil)
        _, password = letter_issue(account=account)
        letters.append(Letter("pupil", account, password, pupil.birth_date, "", pupil.school.uai))
    return letters


def write_credentials(letters: list[Letter], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(letter.row() for letter in letters)


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
