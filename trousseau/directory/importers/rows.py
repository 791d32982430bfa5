"""Row-by-row checks of the two exports (docs/import-format.md); each refusal names line, column, reason.

Checks need no query per row: the schools are read once, and the pupils a guardian row may name come
from the pupils file of the same import or from one read of the school's pupils.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext

from trousseau.core.phones import normalize_school_mobile
from trousseau.core.text import fold
from trousseau.directory.importers.reading import Column, Record
from trousseau.directory.importers.report import RowError

PUPILS, GUARDIANS = "eleves", "responsables"
# The value a SIECLE reader adds to its records (ELEVE_ID, PERSONNE_ID): no Column reads it from a file,
# so a hand-made CSV cannot claim somebody's AAF identifier.
SOURCE_ID = "SOURCE_ID"

PUPIL_COLUMNS = [
    Column("INE", ("ID_NATIONAL", "INE_ELEVE", "NUMERO_INE")),
    Column("NOM", ("NOM_DE_FAMILLE", "NOM_FAMILLE", "NOM_ELEVE")),
    Column("PRENOM", ("PRENOM1", "PRENOM_ELEVE")),
    Column("DATE_NAISS", ("DATE_NAISSANCE", "DATE_DE_NAISSANCE", "NE_LE")),
    Column("CLASSE", ("DIVISION", "CODE_STRUCTURE"), required=False),
    Column("UAI", ("RNE", "UAJ", "CODE_RNE"), required=False),
]
GUARDIAN_COLUMNS = [
    Column("ID_RESPONSABLE", ("PERSONNE_ID", "ID_RESP", "IDENTIFIANT_RESPONSABLE"), required=False),
    Column("NOM", ("NOM_DE_FAMILLE", "NOM_RESPONSABLE", "NOM_RESP")),
    Column("PRENOM", ("PRENOM_RESPONSABLE", "PRENOM_RESP")),
    Column("TEL_PORTABLE", ("PORTABLE", "TELEPHONE_PORTABLE", "TEL_MOBILE", "MOBILE"), required=False),
    Column("COURRIEL", ("EMAIL", "MEL", "MAIL", "ADRESSE_MAIL"), required=False),
    Column("INE_ELEVE", ("INE", "ID_NATIONAL_ELEVE")),
    Column("RESP_LEGAL", ("RESPONSABLE_LEGAL", "NIVEAU_RESPONSABILITE"), required=False),
    Column("LIEN", ("LIEN_PARENTE", "LIEN_DE_PARENTE"), required=False),
]

INE_RE = re.compile(r"^[0-9]{9}[0-9A-Z][A-Z]$")
UAI_RE = re.compile(r"^[0-9]{7}[A-Z]$")
NAME_MAX, CLASS_MAX, KEY_MAX, EMAIL_MAX = 100, 20, 100, 254
OLDEST_YEAR = 1900
LEGAL = {"1": True, "2": True, "oui": True, "o": True, "": True, "0": False, "non": False, "n": False}


@dataclass(slots=True)
class PupilRow:
    line: int
    ine: str
    last_name: str
    first_name: str
    birth_date: date
    class_name: str
    school_id: int
    source_id: str = ""  # SIECLE's ELEVE_ID (models.Pupil.source_id)


@dataclass(slots=True)
class GuardianRow:
    line: int
    school_id: int
    key: str
    last_name: str
    first_name: str
    mobile: str
    email: str
    ine: str
    legal: bool
    source_id: str = ""  # SIECLE's PERSONNE_ID (models.Guardian.source_id)


@dataclass(frozen=True, slots=True)
class SchoolRef:
    id: int
    uai: str
    primary: bool


ErrorSink = Callable[[RowError], None]


class _Checker:
    file = ""

    def __init__(self, sink: ErrorSink) -> None:
        self.sink = sink
        self.failed = False
        self.record: Record | None = None  # the row being checked: its person is named in its errors

    def error(self, line: int, field: str, reason: str) -> None:
        self.failed = True
        self.sink(RowError(self.file, line, field, reason, self.who))

    def named(self, record: Record) -> None:
        self.record = record  # named only if an error needs it (most rows have none)

    @property
    def who(self) -> str:
        """The row's person as the secretary finds them in her software: first name, family name in capitals."""
        if self.record is None:
            return ""
        first = " ".join(self.record.values.get("PRENOM", "").split())
        last = " ".join(self.record.values.get("NOM", "").split()).upper()
        return f"{first} {last}".strip()[:80]

    def name(self, record: Record, column: str) -> str:
        value = " ".join(record.values[column].split())
        if not value:
            self.error(record.line, column, gettext("Champ obligatoire vide."))
        elif len(value) > NAME_MAX:
            self.error(record.line, column, gettext("Trop long (%(max)d caractères au plus).") % {"max": NAME_MAX})
        return value

    def ine(self, record: Record, column: str) -> str:
        value = record.values[column].replace(" ", "").upper()
        if not value:
            self.error(record.line, column, gettext("Champ obligatoire vide."))
        elif not INE_RE.match(value):
            self.error(
                record.line,
                column,
                gettext("INE invalide « %(value)s » : 11 caractères attendus (par exemple 123456789AB).")
                % {"value": value[:20]},
            )
        return value


class PupilChecker(_Checker):
    """Turns records into PupilRows; remembers each INE's school for the guardians file."""

    file = PUPILS

    def __init__(
        self, sink: ErrorSink, schools: Mapping[str, SchoolRef], *, school: SchoolRef | None, track: bool = True
    ) -> None:
        super().__init__(sink)
        self.schools = schools
        self.school = school
        # False: duplicates and the INE -> school map are the caller's (PostgreSQL's staging table), memory stays flat.
        self.track = track
        self.first_line: dict[str, int] = {}
        self.ine_school: dict[str, int] = {}
        self.refused: set[str] = set()  # INEs of refused rows: as many as the errors, not the pupils
        self.today = timezone.localdate()

    def __call__(self, record: Record) -> PupilRow | None:
        self.failed = False
        self.named(record)
        line, v = record.line, record.values
        ine = self.ine(record, "INE")
        last, first = self.name(record, "NOM"), self.name(record, "PRENOM")
        birth = self._birth_date(record)
        class_name = " ".join(v["CLASSE"].split())
        if len(class_name) > CLASS_MAX:
            self.error(line, "CLASSE", gettext("Trop long (%(max)d caractères au plus).") % {"max": CLASS_MAX})
        school = self._school(record)
        if ine and not self.failed and self.track:
            if ine in self.first_line:
                self.error(line, "INE", duplicate_ine_message(self.first_line[ine]))
            else:
                self.first_line[ine] = line
        if self.failed or birth is None or school is None:
            if ine and INE_RE.match(ine) and ine not in self.ine_school:  # (a repeated row: the INE stands)
                self.refused.add(ine)  # its guardians' rows are not "unknown pupil" errors on top of this one
            return None
        if self.track:
            self.ine_school[ine] = school.id
        return PupilRow(line, ine, last, first, birth, class_name, school.id, _source_id(record))

    def _birth_date(self, record: Record) -> date | None:
        raw = record.values["DATE_NAISS"]
        if not raw:
            self.error(record.line, "DATE_NAISS", gettext("Champ obligatoire vide."))
            return None
        parsed = parse_date(raw)
        if parsed is None:
            self.error(
                record.line,
                "DATE_NAISS",
                gettext("Date invalide « %(value)s » : attendu JJ/MM/AAAA.") % {"value": raw[:20]},
            )
        elif parsed > self.today:
            self.error(record.line, "DATE_NAISS", gettext("Date de naissance dans le futur."))
            return None
        return parsed

    def _school(self, record: Record) -> SchoolRef | None:
        uai = record.values["UAI"].replace(" ", "").upper()
        if self.school is not None:
            if uai and uai != self.school.uai:
                msg = gettext("Cet élève est d'un autre établissement (UAI %(uai)s) que celui importé (%(own)s).")
                self.error(record.line, "UAI", msg % {"uai": uai[:12], "own": self.school.uai})
                return None
            return self.school
        if not uai:
            self.error(record.line, "UAI", gettext("Champ obligatoire vide."))
            return None
        school = self.schools.get(uai)
        if school is None:
            self.error(record.line, "UAI", gettext("Établissement inconnu : UAI %(uai)s.") % {"uai": uai[:12]})
        return school


class GuardianChecker(_Checker):
    """Turns records into GuardianRows; a guardian is one school's record, keyed by ID or by names."""

    file = GUARDIANS

    def __init__(self, sink: ErrorSink, pupils: Mapping[str, int], *, refused: Container[str] = ()) -> None:
        super().__init__(sink)
        self.pupils = pupils  # INE -> school id, of the pupils this import may link
        self.refused = refused  # pupils whose row was refused: their links are left out, without another error
        self.people: dict[tuple[int, str], tuple[int, tuple[str, ...]]] = {}
        self.links: dict[tuple[int, str, str], int] = {}

    def __call__(self, record: Record) -> GuardianRow | None:
        row = self.checked(record, self.pupils)
        if row is None:
            return None
        line, school_id, key, ine = row.line, row.school_id, row.key, row.ine
        data = (row.last_name, row.first_name, row.mobile, row.email)
        if not self._consistent(line, (school_id, key), data, by_name=key.startswith("nom:")):
            return None
        first_link = self.links.setdefault((school_id, key, ine), line)
        if first_link != line:
            self.error(line, "INE_ELEVE", link_twice_message(first_link))
            return None
        return row

    def checked(self, record: Record, pupils: Mapping[str, int] | None) -> GuardianRow | None:
        """The checks of one row alone; `pupils` None leaves the pupil's school to the caller (school_id 0)."""
        self.failed = False
        self.named(record)
        line, v = record.line, record.values
        named = record.values["INE_ELEVE"].replace(" ", "").upper()
        if named in self.refused and (pupils is None or named not in pupils):
            return None  # the pupil's own row error says what to fix; "élève inconnu" here would mislead
        last, first = self.name(record, "NOM"), self.name(record, "PRENOM")
        mobile = self._mobile(record)
        email = self._email(record)
        ine = self.ine(record, "INE_ELEVE")
        legal = LEGAL.get(v["RESP_LEGAL"].strip().lower())
        if legal is None:
            self.error(line, "RESP_LEGAL", gettext("Valeur attendue : 1, 2 (représentant légal) ou 0 (autre contact)."))
        school_id = (pupils.get(ine) if ine else None) if pupils is not None else 0
        if ine and not self.failed and school_id is None:
            self.error(line, "INE_ELEVE", unknown_pupil_message(ine))
        given_id = v["ID_RESPONSABLE"].strip()
        if len(given_id) > KEY_MAX:
            self.error(line, "ID_RESPONSABLE", gettext("Trop long (%(max)d caractères au plus).") % {"max": KEY_MAX})
        if self.failed or school_id is None or legal is None:
            return None
        key = f"id:{given_id}" if given_id else f"nom:{fold(last)[:50]}|{fold(first)[:50]}"
        return GuardianRow(line, school_id, key, last, first, mobile, email, ine, legal, _source_id(record))

    def _consistent(self, line: int, person: tuple[int, str], data: tuple[str, ...], *, by_name: bool) -> bool:
        seen = self.people.setdefault(person, (line, data))
        if seen[1] == data:
            return True
        self.error(
            line, "ID_RESPONSABLE" if not by_name else "TEL_PORTABLE", inconsistent_message(seen[0], by_name=by_name)
        )
        return False

    def _mobile(self, record: Record) -> str:
        raw = record.values["TEL_PORTABLE"]
        if not raw:
            return ""
        try:
            return normalize_school_mobile(raw)
        except ValueError as exc:
            self.error(record.line, "TEL_PORTABLE", str(exc))
            return ""

    def _email(self, record: Record) -> str:
        raw = record.values["COURRIEL"]
        if not raw:
            return ""
        try:
            validate_email(raw)
        except ValidationError:
            valid = False
        else:
            valid = len(raw) <= EMAIL_MAX
        if not valid:
            self.error(record.line, "COURRIEL", gettext("Adresse email invalide."))
            return ""
        return raw


def duplicate_ine_message(first: int) -> str:
    return gettext("INE en double (déjà ligne %(line)d).") % {"line": first}


def unknown_pupil_message(ine: str) -> str:
    return gettext("Élève inconnu : INE %(ine)s absent des élèves importés.") % {"ine": ine}


def link_twice_message(first: int) -> str:
    return gettext("Lien en double (déjà ligne %(line)d).") % {"line": first}


def inconsistent_message(first: int, *, by_name: bool) -> str:
    """A guardian met again with other details: by names (two people?) or by ID_RESPONSABLE."""
    if by_name:
        msg = gettext(
            "Ce responsable figure déjà ligne %(line)d avec un autre portable ou courriel : "
            "s'il s'agit de deux personnes, renseignez ID_RESPONSABLE."
        )
    else:
        msg = gettext("ID_RESPONSABLE déjà utilisé ligne %(line)d pour d'autres nom, prénom, portable ou courriel.")
    return msg % {"line": first}


def _source_id(record: Record) -> str:
    """SIECLE's identifier, which only the SIECLE readers put in a record (never a column of a CSV)."""
    return record.values.get(SOURCE_ID, "")


DATE_RE = re.compile(r"^\s*(?:([0-9]{2})/([0-9]{2})/([0-9]{4})|([0-9]{4})-([0-9]{2})-([0-9]{2}))\s*$")


def parse_date(raw: str) -> date | None:
    """`JJ/MM/AAAA` or `AAAA-MM-JJ`; None when it is neither or no such day (regex: strptime is slow)."""
    match = DATE_RE.match(raw)
    if match is None:
        return None
    day, month, year = match.group(1, 2, 3) if match.group(1) else match.group(6, 5, 4)
    try:
        parsed = date(int(year), int(month), int(day))
    except ValueError:
        return None
    return parsed if parsed.year >= OLDEST_YEAR else None
