"""Builds a small académie: three schools, families with siblings across classes and schools.

The families are written as the schools' own exports, into a folder a tester can import again (the
collège and the lycée as SIECLE pairs, the école as its two ONDE extractions, with the generator's
writers: trousseau/demo/samples/exports.py), and then imported by `import_records`, the code the
console and `manage.py import_records` run; the letters are issued for the accounts the import made.

Deterministic (index arithmetic, no `random`), so a tester finds the same shapes every time; only
the provisional passwords are drawn, with `secrets`, when the letters are issued.
"""

from __future__ import annotations

import csv
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import transaction

from trousseau.accounts.models import Account
from trousseau.accounts.services import letter_issue
from trousseau.core.text import fold
from trousseau.demo.samples import exports
from trousseau.directory.models import Guardian, Pupil, School, SchoolLevel
from trousseau.provisioning.services import ImportResult, import_records

FIRST_NAMES = [  # girls at even places, boys at odd ones (the exports give a sex)
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
PARENT_FIRST_NAMES = [  # mothers at even places, fathers at odd ones
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
# The école's classes are its levels; ONDE names them by their label (exports.ECOLE_CLASSES: "CP - Mme
# Prévost", one class for CM1 and CM2), which is the class the import records.
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
FIRST_ELEVE_ID = 1_200_000  # SIECLE's ELEVE_ID and PERSONNE_ID, numbered as the samples number them
FIRST_PERSONNE_ID = 3_400_000


class DemoImportError(RuntimeError):
    """The demo's own exports did not import cleanly: a bug of the demo (or of the import)."""


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


def _national(e164: str) -> str:
    """`+33612345678` as a school records it: `06 12 34 56 78`."""
    digits = "0" + e164.removeprefix("+33")
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def _birth_date(first_year: int, n: int, span_years: int) -> date:
    return date(first_year, 1, 1) + timedelta(days=(n * 137) % (365 * span_years))


@dataclass(frozen=True, slots=True)
class GuardianRecord:
    """One guardian as one school records them (a parent of children in two schools is two records)."""

    person: exports.Person
    uai: str
    first_child: exports.Pupil


@dataclass
class Academie:
    """The demo's families as the schools' exports hold them, and the letters to issue, in their order."""

    schools: list[exports.School]  # in SCHOOLS' order
    guardians: list[GuardianRecord] = field(default_factory=list)  # families' order, parents, schools
    pupils: list[tuple[exports.Pupil, str]] = field(default_factory=list)  # (pupil, UAI) with an account


class _Ecole:
    """What ONDE needs of an école: no two pupils of the same names in a class, no two guardians of the
    same names (ONDE names guardians and children; it numbers neither). A later family gives way."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels
        self.pupils: set[tuple[str, str, str]] = set()
        self.adults: dict[tuple[str, str], str] = {}

    def pupil_first_name(self, last: str, index: int, class_code: str, siblings: set[str]) -> str:
        label = self.labels[class_code]
        for step in range(len(FIRST_NAMES) // 2):  # another name of the same list and sex
            first = FIRST_NAMES[(index + 2 * step) % len(FIRST_NAMES)]
            if (fold(last), fold(first), label) not in self.pupils and first not in siblings:
                self.pupils.add((fold(last), fold(first), label))
                return first
        msg = f"no free first name for a pupil {last} in {label}"
        raise DemoImportError(msg)

    def adult_first_name(self, last: str, index: int, mobile: str) -> str:
        first = PARENT_FIRST_NAMES[index % len(PARENT_FIRST_NAMES)]
        for step in range(len(PARENT_FIRST_NAMES) // 2):  # a compound first name, as families have them
            named = first if not step else f"{first}-{PARENT_FIRST_NAMES[(index + 2 * step) % len(PARENT_FIRST_NAMES)]}"
            if self.adults.setdefault((fold(last), fold(named)), mobile) == mobile:
                return named
        msg = f"no free first name for a guardian {last}"
        raise DemoImportError(msg)


def academie(pupils: int) -> Academie:
    """The families, by index arithmetic: the same shapes as the demo has always had."""
    schools = [
        exports.School(uai, name, capitals=False)  # the names as spelt here (letters, FranceConnect stand-in)
        for uai, name, *_ in SCHOOLS
    ]
    ecole = _Ecole({code: label for code, label, _ in exports.ECOLE_CLASSES})
    made = Academie(schools)
    eleve_id, personne_id = FIRST_ELEVE_ID, FIRST_PERSONNE_ID
    pupil_no = 0
    family = 0
    while pupil_no < pupils:
        last_name = LAST_NAMES[family % len(LAST_NAMES)]
        # Families of 1, 2 or 3 children; every fourth family spans two schools (two letters per parent).
        size = 1 + family % 3
        children: list[tuple[int, exports.Pupil]] = []
        for k in range(size):
            s = (family + (k if family % 4 == 0 else 0)) % len(SCHOOLS)
            _, _, level, classes, first_year = SCHOOLS[s]
            span = 5 if s == 0 else 4 if s == 1 else 3
            class_code = classes[(pupil_no + k) % len(classes)]
            index = (pupil_no * 5 + k) % len(FIRST_NAMES)
            first = FIRST_NAMES[index]
            if level == SchoolLevel.ECOLE:
                first = ecole.pupil_first_name(last_name, index, class_code, {c.first_name for _, c in children})
            born = _birth_date(first_year, pupil_no + k * 400, span)
            source_id = ""
            if level != SchoolLevel.ECOLE:  # ONDE has no identifier of a pupil but the INE
                eleve_id += 1
                source_id = str(eleve_id)
            child = exports.Pupil(
                source_id=source_id,
                ine=f"{100000000 + pupil_no:09d}{'AB'[pupil_no % 2]}{'K'}",
                last_name=last_name,
                first_name=first,
                birth_date=born.strftime("%d/%m/%Y"),
                girl=FIRST_NAMES.index(first) % 2 == 0,
                class_code=class_code,
            )
            children.append((s, child))
            schools[s].pupils.append(child)
            if level != SchoolLevel.ECOLE:  # no pupil account in an école (ÉduConnect: 2nd degree only)
                made.pupils.append((child, SCHOOLS[s][0]))
            pupil_no += 1
        parents = 1 if family % 5 == 0 else 2
        for p in range(parents):
            index = (family * 2 + p) % len(PARENT_FIRST_NAMES)
            phone = _mobile(family * 2 + p + 1)
            first = PARENT_FIRST_NAMES[index]
            if any(SCHOOLS[s][2] == SchoolLevel.ECOLE for s, _ in children):
                first = ecole.adult_first_name(last_name, index, phone)
            mother = index % 2 == 0
            # One guardian record per school the family's children attend, as each school records it.
            for s in sorted({s for s, _ in children}):
                personne_id += 1
                person = exports.Person(
                    source_id=str(personne_id),  # PERSONNE_ID in SIECLE; ONDE writes no identifier
                    title="MME" if mother else "M.",
                    last_name=last_name,
                    first_name=first,
                    mobile=_national(phone),
                    email="",
                )
                mine = [c for t, c in children if t == s]
                for child in mine:
                    child.guardians.append((person, "1", "20" if mother else "10"))
                made.guardians.append(GuardianRecord(person, SCHOOLS[s][0], mine[0]))
        family += 1
    return made


def write_exports(made: Academie, folder: Path) -> dict[str, tuple[Path, Path]]:
    """Each school's pair of files, as the school downloads them (an école's as ONDE extracts them)."""
    files: dict[str, tuple[Path, Path]] = {}
    for school, (uai, _, level, _, _) in zip(made.schools, SCHOOLS, strict=True):
        if school.pupils:  # an export without a pupil is refused: a tiny demo has no lycée
            writer = exports.write_onde if level == SchoolLevel.ECOLE else exports.write_siecle
            files[uai] = writer(folder, school)
    return files


def import_exports(files: dict[str, tuple[Path, Path]], *, actor: str = "seed_demo") -> list[ImportResult]:
    """The académie's SIECLE pairs in one import (as `manage.py import_records`), then each école's ONDE
    extractions for that école (ONDE does not say which école it comes from)."""
    levels = dict(School.objects.filter(uai__in=files).values_list("uai", "level"))
    siecle = [uai for uai in files if levels[uai] != SchoolLevel.ECOLE]
    onde = [uai for uai in files if levels[uai] == SchoolLevel.ECOLE]
    calls: list[tuple[School | None, list[str]]] = [(None, siecle)] if siecle else []
    calls += [(School.objects.get(uai=uai), [uai]) for uai in onde]
    results = []
    for school, uais in calls:
        with ExitStack() as stack:
            pupils: list[IO[bytes]] = [stack.enter_context(files[uai][0].open("rb")) for uai in uais]
            guardians: list[IO[bytes]] = [stack.enter_context(files[uai][1].open("rb")) for uai in uais]
            results.append(
                import_records(
                    pupils=pupils, guardians=guardians, school=school, actor=actor, max_bytes=None, bulk_copy=True
                )
            )
    return results


def _letters(made: Academie) -> list[Letter]:
    """A letter for each account the import made for the demo's families: guardians first, then pupils."""
    pupils = {p.ine: p for p in Pupil.objects.filter(ine__in=[c.ine for s in made.schools for c in s.pupils])}
    by_id: dict[tuple[str, str], Guardian] = {}
    by_names: dict[tuple[str, str, str], Guardian] = {}
    for school in School.objects.filter(uai__in=[s.uaj for s in made.schools]):
        for g in Guardian.objects.filter(school=school).select_related("account_link__account"):
            by_id[(school.uai, g.source_id)] = g
            by_names[(school.uai, g.last_name, g.first_name)] = g
    accounts = {
        a.pupil.ine: a
        for a in Account.objects.filter(pupil__in=pupils.values()).select_related("pupil")
        if a.pupil is not None
    }
    siecle = {uai for uai, _, level, _, _ in SCHOOLS if level != SchoolLevel.ECOLE}
    letters: list[Letter] = []
    for record in made.guardians:
        person = record.person
        if record.uai in siecle:
            guardian = by_id[(record.uai, person.source_id)]
        else:  # ONDE names its guardians: the école's have names of their own (_Ecole)
            guardian = by_names[(record.uai, person.last_name, person.first_name)]
        account = guardian.account_link.account
        _, password = letter_issue(account=account)
        born = pupils[record.first_child.ine].birth_date
        letters.append(Letter("guardian", account, password, born, guardian.mobile, record.uai))
    for child, uai in made.pupils:
        account = accounts[child.ine]
        _, password = letter_issue(account=account)
        letters.append(Letter("pupil", account, password, pupils[child.ine].birth_date, "", uai))
    return letters


def default_exports_folder() -> Path:
    return settings.BASE_DIR / "var" / "demo" / "exports"


@transaction.atomic
def build_demo(*, pupils: int = 200, exports_folder: Path | None = None) -> list[Letter]:
    """Create the académie through its exports; returns the letters issued (guardians first, then pupils).

    The exports stay in `exports_folder` (var/demo/exports/ by default), one folder per school, for a
    tester to import again from the console or `manage.py import_records`.
    """
    for uai, name, level, _, _ in SCHOOLS:
        School.objects.create(uai=uai, name=name, level=level, academie=ACADEMIE)
    made = academie(pupils)
    files = write_exports(made, exports_folder or default_exports_folder())
    for result in import_exports(files):
        if not result.ok or not result.applied:
            shown = "; ".join(f"{e.file} ligne {e.line} [{e.field}] : {e.reason}" for e in result.errors[:10])
            msg = f"the demo's exports did not import cleanly ({result.error_count} errors): {shown}"
            raise DemoImportError(msg)
    return _letters(made)


def write_credentials(letters: list[Letter], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(letter.row() for letter in letters)
