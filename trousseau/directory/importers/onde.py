"""ONDE's CSV extractions (écoles), read as they come: the pupils, and the guardians with their children.

ONDE (ex-"Base élèves 1er degré", BE1D) extracts, from "Listes & documents > Extractions > Élèves de
l'école et leurs responsables", one CSV per category (docs/school-exports.md has the columns and the
sources): **Élèves**, one row per pupil with the INE, the class's label and ONDE's class identifier;
**Responsables**, one row per guardian followed by one group of columns per child (usage name, family
name, first name, classes), repeated as many times as the guardian has children in the school. Both
are `;`-separated and, in practice, Windows-1252; the whole-file encoding rule applies (encoding.py).

ONDE gives no identifier of its own to pupils other than the INE, and none to guardians: a guardian's
children are named, not numbered, so they are found among the pupils by their names (and class when
two pupils share them).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext

from trousseau.core.text import fold
from trousseau.directory.importers.reading import Column, Source, csv_rows, read_records
from trousseau.directory.importers.report import ImportFileError, RowError
from trousseau.directory.importers.rows import GUARDIANS, parse_date

PUPIL_COLUMNS = [
    Column("INE", ("INE élève", "Identifiant national élève")),
    Column("Nom élève", ("Nom de famille élève", "Nom élève", "Nom")),
    Column("Nom d'usage élève", ("Nom usage élève",), required=False),
    Column("Prénom élève", ("Prénom",)),
    Column("Date naissance", ("Date de naissance",)),
    Column("Libellé classe", ("Classe",)),
    Column("Identifiant classe", (), required=False),
    Column("Niveau", (), required=False),
]

# The guardians file: fixed columns, then the children's groups (found by pattern, see _child_column).
GUARDIAN_FIELDS = {
    "nomresponsable": "last",
    "nomusageresponsable": "usage",
    "nomdusageresponsable": "usage",
    "prenomresponsable": "first",
    "courriel": "email",
    "telephoneportable": "mobile",
    "civiliteresponsable": "title",
}
_CHILD = re.compile(r"^(nomdusage|nomusage|nomdefamille|prenom|classes?)(enfants?|eleves?)([0-9]*)$")
_CHILD_FIELD = {"nomdusage": "usage", "nomusage": "usage", "nomdefamille": "last", "prenom": "first"}


@dataclass(frozen=True, slots=True)
class OndePupil:
    line: int
    ine: str
    last_name: str  # the usage name when ONDE has one, else the family name
    birth_name: str
    first_name: str
    birth_date: date | None
    birth_date_text: str
    class_name: str  # "Libellé classe", as the school names it
    class_id: str  # "Identifiant classe": ONDE's identifier of the class (LSU needs it)
    level: str  # "Niveau": CP, CE1…


@dataclass(frozen=True, slots=True)
class OndeChild:
    last_name: str
    birth_name: str
    first_name: str
    class_name: str


@dataclass(frozen=True, slots=True)
class OndeGuardian:
    line: int
    last_name: str
    birth_name: str
    first_name: str
    mobile: str
    email: str
    children: tuple[OndeChild, ...]


@dataclass(frozen=True, slots=True)
class OndeLink:
    """A guardian row's child found among the pupils: the pipeline links the guardian to this INE."""

    guardian: OndeGuardian
    ine: str


def read_onde_pupils(source: Source) -> Iterator[OndePupil]:
    for record in read_records(source, PUPIL_COLUMNS, record_tag="ELEVE"):
        v = record.values
        if not (v["INE"] or v["Nom élève"] or v["Prénom élève"]):
            continue  # a closing line without a pupil
        usage, birth = " ".join(v["Nom d'usage élève"].split()), " ".join(v["Nom élève"].split())
        born = v["Date naissance"]
        yield OndePupil(
            line=record.line,
            ine=v["INE"].replace(" ", "").upper(),
            last_name=usage or birth,
            birth_name=birth,
            first_name=" ".join(v["Prénom élève"].split()),
            birth_date=parse_date(born) if born else None,
            birth_date_text=born,
            class_name=" ".join(v["Libellé classe"].split()),
            class_id=v["Identifiant classe"],
            level=v["Niveau"],
        )


def _child_column(name: str, seen: dict[str, int]) -> tuple[int, str] | None:
    """(group, field) of a child's column: numbered ("Prénom élève 2") or repeated ("Prénom enfant" ×3)."""
    match = _CHILD.match(fold(name))
    if match is None:
        return None
    kind = _CHILD_FIELD.get(match.group(1), "class")
    if match.group(3):
        return int(match.group(3)), kind
    seen[kind] = seen.get(kind, 0) + 1
    return seen[kind], kind


def read_onde_guardians(source: Source) -> Iterator[OndeGuardian]:
    lines = source.lines()
    header_line = next((line for line in lines if line.strip()), None)
    if header_line is None:
        raise ImportFileError(gettext("Le fichier est vide."))
    try:
        header = next(csv.reader([header_line], delimiter=";"))
    except csv.Error as exc:
        raise ImportFileError(gettext("Ligne d'en-tête CSV illisible."), line=1) from exc
    fixed, groups = _guardian_columns(header)
    for start, cells in csv_rows(lines, ";"):
        guardian = _guardian(start, cells, fixed, groups)
        if guardian is not None:
            yield guardian


def _guardian_columns(header: list[str]) -> tuple[dict[str, int], list[dict[str, int]]]:
    """The guardian's own columns, and one {field: column} per child's group, in order."""
    fixed: dict[str, int] = {}
    groups: dict[int, dict[str, int]] = {}
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        column = GUARDIAN_FIELDS.get(fold(name))
        if column is not None:
            fixed.setdefault(column, index)
            continue
        child = _child_column(name, seen)
        if child is not None:
            groups.setdefault(child[0], {}).setdefault(child[1], index)
    missing = [
        label for key, label in (("last", "Nom responsable"), ("first", "Prénom responsable")) if key not in fixed
    ]
    if not any("first" in g and "last" in g for g in groups.values()):
        missing.append("Prénom enfant, Nom de famille enfant")
    if missing:
        msg = gettext("Colonne obligatoire absente : %(columns)s.") % {"columns": ", ".join(missing)}
        raise ImportFileError(msg, line=1)
    return fixed, [groups[k] for k in sorted(groups)]


def _guardian(start: int, cells: list[str], fixed: dict[str, int], groups: list[dict[str, int]]) -> OndeGuardian | None:
    def cell(index: int | None) -> str:
        return " ".join(cells[index].split()) if index is not None and index < len(cells) else ""

    children = []
    for group in groups:
        first, last = cell(group.get("first")), cell(group.get("last"))
        if first or last:
            usage = cell(group.get("usage"))
            children.append(OndeChild(usage or last, last, first, cell(group.get("class"))))
    usage, last, first = cell(fixed.get("usage")), cell(fixed.get("last")), cell(fixed.get("first"))
    if not (first or last or children):
        return None  # a closing line without a guardian
    return OndeGuardian(
        line=start,
        last_name=usage or last,
        birth_name=last,
        first_name=first,
        mobile=cell(fixed.get("mobile")),
        email=cell(fixed.get("email")),
        children=tuple(children),
    )


class OndeMatcher:
    """Finds a guardian's children among the pupils of the same school: by names, then class if need be."""

    def __init__(self, pupils: list[OndePupil]) -> None:
        self.by_names: dict[tuple[str, str], list[OndePupil]] = {}
        for pupil in pupils:
            for name in {pupil.last_name, pupil.birth_name}:
                self.by_names.setdefault((fold(name), fold(pupil.first_name)), []).append(pupil)

    def links(self, guardian: OndeGuardian, errors: list[RowError]) -> list[OndeLink]:
        found: list[OndeLink] = []
        for child in guardian.children:
            candidates: dict[str, OndePupil] = {}
            for name in (child.last_name, child.birth_name):
                for pupil in self.by_names.get((fold(name), fold(child.first_name)), []):
                    candidates[pupil.ine] = pupil
            if len(candidates) > 1 and child.class_name:
                same_class = {k: p for k, p in candidates.items() if fold(p.class_name) == fold(child.class_name)}
                candidates = same_class or candidates
            if len(candidates) == 1:
                found.append(OndeLink(guardian, next(iter(candidates))))
                continue
            named = f"{child.first_name} {child.last_name}"[:80]
            if candidates:
                msg = gettext("Plusieurs élèves s'appellent %(name)s dans cette classe : lien impossible à établir.")
            else:
                msg = gettext("Enfant %(name)s absent du fichier des élèves.")
            errors.append(RowError(GUARDIANS, guardian.line, "Prénom enfant", msg % {"name": named}))
        return found
