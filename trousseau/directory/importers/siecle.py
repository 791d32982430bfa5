"""SIECLE's "Exports XML génériques", read as they come: ElevesSans/AvecAdresses.xml, ResponsablesAvecAdresses.xml.

The files (docs/school-exports.md) hold one school (`PARAMETRES/UAJ`). A pupils file lists its pupils in
`DONNEES/ELEVES/ELEVE[@ELEVE_ID]` and, after them, their classes in `DONNEES/STRUCTURES/STRUCTURES_ELEVE`
(the structure of `TYPE_STRUCTURE` `D` is the class); a guardians file lists people in
`DONNEES/PERSONNES/PERSONNE[@PERSONNE_ID]`, then the links in `DONNEES/RESPONSABLES/RESPONSABLE_ELEVE`.

Reading streams, never builds a tree: one pass parses and checks the whole file (well-formed, the expected
root, the school, no identifier twice), keeps what the rows need from later in the file (the pupils'
classes) and writes the few fields the rows need to a temporary file (marshal, in small batches); only
then are rows handed out, from that file, so a file refused as a whole yields no row and the XML is parsed
once. Memory holds those identifiers while a file is checked, never the rows nor the classes (on disk
too): lxml builds the tree as it reads, every item is dropped from it once read, and only the wanted
children of an item are visited (siecle_xml.py). A DTD is refused before parsing, and the parser neither
resolves entities nor reaches the network; the encoding is decided once for the whole file (encoding.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext

from trousseau.directory.importers.report import ImportFileError
from trousseau.directory.importers.rows import parse_date
from trousseau.directory.importers.siecle_xml import (
    GUARDIANS_ROOT,
    LINK_ITEM,
    PERSON_ITEM,
    PUPIL_ITEM,
    PUPILS_ROOT,
    STRUCTURES_ITEM,
    Progress,
    SiecleFile,
    Spool,
    Wanted,
)

CLASS_TYPE = "D"  # TYPE_STRUCTURE of a class ("division"); "G" is a group
# SIECLE files pupils without a class of the year under this structure (Pix skips it too).
INACTIVE_CLASS = "Inactifs"


@dataclass(frozen=True, slots=True)
class SieclePupil:
    """One `ELEVE`. `last_name` is the usage name when SIECLE has one (`NOM_USAGE`), else the birth name."""

    source_id: str  # ELEVE_ID: the school's stable identifier of the pupil in SIECLE
    line: int
    ine: str  # ID_NATIONAL
    last_name: str
    birth_name: str  # NOM_DE_FAMILLE
    first_name: str
    birth_date: date | None  # None when DATE_NAISS is empty or not a date (`birth_date_text` says what)
    birth_date_text: str
    class_name: str  # CODE_STRUCTURE of the type D structure, "" when none
    left_on: date | None  # DATE_SORTIE
    left: bool  # DATE_SORTIE set and not in the future
    uaj: str


@dataclass(frozen=True, slots=True)
class SiecleGuardian:
    """One `PERSONNE`: a guardian or another contact, as the school knows them."""

    source_id: str  # PERSONNE_ID
    line: int
    last_name: str  # usage name when set, else birth name (as for pupils)
    birth_name: str
    first_name: str
    mobile: str  # TEL_PORTABLE as written ("" when none)
    email: str  # MEL
    uaj: str


@dataclass(frozen=True, slots=True)
class SiecleLink:
    """One `RESPONSABLE_ELEVE`: `legal` is RESP_LEGAL as written (1 and 2: legal representatives, 0: contact)."""

    pupil_source_id: str  # ELEVE_ID
    guardian_source_id: str  # PERSONNE_ID
    line: int
    legal: str
    kinship: str  # CODE_PARENTE (a SIECLE nomenclature code)
    uaj: str


def _check_school(params: dict[str, str], expected_uaj: str | None) -> str:
    uaj = params.get("UAJ", "").replace(" ", "").upper()
    if not uaj:
        raise ImportFileError(gettext("Le fichier SIECLE ne dit pas son établissement (PARAMETRES/UAJ absent)."))
    if expected_uaj is not None and uaj != expected_uaj.upper():
        msg = gettext(
            "Ce fichier est celui de l'établissement %(uaj)s, et non du vôtre (%(own)s) : rien n'a été importé."
        )
        raise ImportFileError(msg % {"uaj": uaj[:12], "own": expected_uaj})
    return uaj


def _duplicate(what: str, value: str, line: int, first: int) -> ImportFileError:
    msg = gettext("%(what)s %(value)s en double (déjà ligne %(line)d) : le fichier est refusé.")
    return ImportFileError(msg % {"what": what, "value": value[:40], "line": first}, line=line)


def _usage(birth_name: str, old_name: str, usage: str) -> tuple[str, str]:
    """(usage or birth name, birth name); older exports name the birth name NOM."""
    birth = birth_name or old_name
    return usage or birth, birth


class SieclePupils:
    """ElevesSansAdresses.xml or ElevesAvecAdresses.xml: checked whole when made, then iterated for its pupils.

    The checking pass keeps what the rows need on disk (Spool), so the rows pass parses nothing again.
    """

    def __init__(
        self,
        handle: IO[bytes],
        *,
        expected_uaj: str | None = None,
        today: date | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.file = SiecleFile(handle, max_bytes=max_bytes)
        self.today = today or timezone.localdate()
        classes: dict[str, str] = {}
        self.count = 0
        self._rows = Spool()
        first_line: dict[str, int] = {}
        interned: dict[str, str] = {}
        params: dict[str, str] = {}
        wanted: Wanted = {("ELEVES", "ELEVE"): PUPIL_ITEM, ("STRUCTURES", "STRUCTURES_ELEVE"): STRUCTURES_ITEM}
        for kind, line, ident, data in self.file.elements(PUPILS_ROOT, wanted):
            source_id = ident.strip()
            if kind == "ELEVES":
                if not source_id:
                    raise ImportFileError(gettext("Élève sans attribut ELEVE_ID."), line=line)
                seen = first_line.setdefault(source_id, line)
                if seen != line:
                    raise _duplicate("ELEVE_ID", source_id, line, seen)
                self.count += 1
                self._rows.add((source_id, line, *data))
            elif kind == "STRUCTURES":
                for structure in data:
                    code = structure.get("CODE_STRUCTURE", "")
                    if structure.get("TYPE_STRUCTURE") == CLASS_TYPE and code and code != INACTIVE_CLASS:
                        classes[source_id] = interned.setdefault(code, code)
            else:
                params = data
                _check_school(params, expected_uaj)  # PARAMETRES come first: another school is refused at once
        self._rows.flush()
        # An académie's files are all checked before any row is read: their classes wait on disk too.
        self._classes = Spool()
        self._classes.add(tuple(classes.items()))
        self._classes.flush()
        self.uaj = _check_school(params, expected_uaj)
        self.year = params.get("ANNEE_SCOLAIRE", "")
        if not self.count:
            raise ImportFileError(
                gettext("Le fichier des élèves ne contient aucun élève : rien n'a été importé."),
            )

    @property
    def encoding(self) -> str:
        return self.file.encoding.label

    @property
    def classes(self) -> dict[str, str]:
        """ELEVE_ID -> class (the structure of type D), read back from disk."""
        return dict(pair for pairs in self._classes for pair in pairs)

    def eleve_ids(self) -> dict[str, str]:
        """ELEVE_ID -> INE of every pupil, "" for those who left (as iterating says), read again from disk."""
        ids: dict[str, str] = {}
        for source_id, _, ine, *_, left in self._rows:
            left_on = parse_date(left) if left else None
            ids[source_id] = "" if left_on is not None and left_on <= self.today else ine.replace(" ", "").upper()
        return ids

    def __iter__(self) -> Iterator[SieclePupil]:
        # The checking pass kept the rows: none is read before the whole file was checked.
        uaj, classes, today, progress = self.uaj, self.classes, self.today, Progress(self.file, self.count)
        for source_id, line, ine, birth_name, old_name, usage, first, born, left in self._rows:
            last, birth = _usage(birth_name, old_name, usage)
            left_on = parse_date(left) if left else None
            progress.step()
            yield SieclePupil(
                source_id=source_id,
                line=line,
                ine=ine.replace(" ", "").upper(),
                last_name=last,
                birth_name=birth,
                first_name=first,
                birth_date=parse_date(born) if born else None,
                birth_date_text=born,
                class_name=classes.get(source_id, ""),
                left_on=left_on,
                left=left_on is not None and left_on <= today,
                uaj=uaj,
            )


class SpooledIds(dict[str, str]):
    """A school's ELEVE_ID -> INE, left on disk with its pupils files' rows until its guardians file is read.

    An académie's pupils are all read before its guardians: kept in memory, these maps would hold every
    pupil at once. Empty as a dict; `load()` reads them again (siecle.SieclePupils.eleve_ids).
    """

    def __init__(self) -> None:
        super().__init__()
        self.readers: list[SieclePupils] = []

    def load(self) -> dict[str, str]:
        ids: dict[str, str] = dict(self)
        for reader in self.readers:
            ids.update(reader.eleve_ids())
        return ids


class SiecleGuardians:
    """ResponsablesAvecAdresses.xml: checked whole when made, then iterated for its people and links in file order."""

    def __init__(self, handle: IO[bytes], *, expected_uaj: str | None = None, max_bytes: int | None = None) -> None:
        self.file = SiecleFile(handle, max_bytes=max_bytes)
        self.people_count = 0
        self.link_count = 0
        self._rows = Spool()
        self._first_line: dict[str, int] = {}
        self._pairs: set[tuple[str, str]] = set()
        self._unknown: list[tuple[str, int]] = []
        wanted: Wanted = {("PERSONNES", "PERSONNE"): PERSON_ITEM, ("RESPONSABLES", "RESPONSABLE_ELEVE"): LINK_ITEM}
        params: dict[str, str] = {}
        for kind, line, ident, data in self.file.elements(GUARDIANS_ROOT, wanted):
            if kind == "PERSONNES":
                self._person(line, ident.strip(), data)
            elif kind == "RESPONSABLES":
                self._link(line, data)
            else:
                params = data
                _check_school(params, expected_uaj)  # PARAMETRES come first: another school is refused at once
        self._rows.flush()
        self.uaj = _check_school(params, expected_uaj)
        # A link read before its person is not an error in itself; a person never listed is.
        for person, line in self._unknown:
            if person not in self._first_line:
                msg = gettext("Lien vers la personne %(personne)s, absente du fichier.")
                raise ImportFileError(msg % {"personne": person[:20]}, line=line)
        if not self.link_count:
            raise ImportFileError(
                gettext("Le fichier des responsables ne contient aucun lien responsable–élève : rien n'a été importé."),
            )
        del self._first_line, self._pairs, self._unknown  # not needed once the file is checked

    def _person(self, line: int, source_id: str, data: tuple[str, ...]) -> None:
        if not source_id:
            raise ImportFileError(gettext("Personne sans attribut PERSONNE_ID."), line=line)
        seen = self._first_line.setdefault(source_id, line)
        if seen != line:
            raise _duplicate("PERSONNE_ID", source_id, line, seen)
        self.people_count += 1
        self._rows.add((source_id, line, *data))

    def _link(self, line: int, data: tuple[str, ...]) -> None:
        pupil, person = data[0], data[1]
        if not person or not pupil:
            raise ImportFileError(gettext("Lien responsable–élève sans ELEVE_ID ou PERSONNE_ID."), line=line)
        if (pupil, person) in self._pairs:
            msg = gettext("Lien en double entre l'élève %(eleve)s et la personne %(personne)s.")
            raise ImportFileError(msg % {"eleve": pupil[:20], "personne": person[:20]}, line=line)
        self._pairs.add((pupil, person))
        if person not in self._first_line:
            self._unknown.append((person, line))
        self.link_count += 1
        self._rows.add((line, *data))

    @property
    def encoding(self) -> str:
        return self.file.encoding.label

    def __iter__(self) -> Iterator[SiecleGuardian | SiecleLink]:
        uaj, progress = self.uaj, Progress(self.file, self.people_count + self.link_count)
        for row in self._rows:
            progress.step()
            if len(row) == len(LINK_ITEM[1]) + 1:
                line, pupil, person, legal, kinship = row
                yield SiecleLink(
                    pupil_source_id=pupil,
                    guardian_source_id=person,
                    line=line,
                    legal=legal,
                    kinship=kinship,
                    uaj=uaj,
                )
            else:
                source_id, line, birth_name, old_name, usage, first, mobile, email = row
                last, birth = _usage(birth_name, old_name, usage)
                yield SiecleGuardian(
                    source_id=source_id,
                    line=line,
                    last_name=last,
                    birth_name=birth,
                    first_name=first,
                    mobile=mobile,
                    email=email,
                    uaj=uaj,
                )

    def guardians(self) -> Iterator[SiecleGuardian]:
        return (row for row in self if isinstance(row, SiecleGuardian))

    def links(self) -> Iterator[SiecleLink]:
        return (row for row in self if isinstance(row, SiecleLink))
