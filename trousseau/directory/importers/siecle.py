"""SIECLE's "Exports XML génériques", read as they come: ElevesSans/AvecAdresses.xml, ResponsablesAvecAdresses.xml.

The files (docs/school-exports.md) hold one school (`PARAMETRES/UAJ`). A pupils file lists its pupils in
`DONNEES/ELEVES/ELEVE[@ELEVE_ID]` and, after them, their classes in `DONNEES/STRUCTURES/STRUCTURES_ELEVE`
(the structure of `TYPE_STRUCTURE` `D` is the class); a guardians file lists people in
`DONNEES/PERSONNES/PERSONNE[@PERSONNE_ID]`, then the links in `DONNEES/RESPONSABLES/RESPONSABLE_ELEVE`.

Reading streams, never builds a tree: a first pass checks the whole file (well-formed, the expected root,
the school, no identifier twice) and keeps what the rows need from later in the file (the pupils'
classes); only then are rows read, in a second pass, so a file refused as a whole yields no row. Memory
holds those identifiers and the classes, never the rows. DTDs and entities are refused (defusedxml);
the encoding is decided once for the whole file (encoding.py), as for every import.
"""

from __future__ import annotations

import codecs
import xml.sax
import xml.sax.handler
import xml.sax.xmlreader
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO, TypeVar

import defusedxml.sax
from defusedxml.common import DefusedXmlException
from django.utils import timezone
from django.utils.translation import gettext

from trousseau.directory.importers.encoding import decide
from trousseau.directory.importers.reading import too_large_message
from trousseau.directory.importers.report import ImportFileError, ImportTooLarge
from trousseau.directory.importers.rows import parse_date

PUPILS_ROOT, GUARDIANS_ROOT = "BEE_ELEVES", "BEE_RESPONSABLES"
CLASS_TYPE = "D"  # TYPE_STRUCTURE of a class ("division"); "G" is a group
# SIECLE files pupils without a class of the year under this structure (Pix skips it too).
INACTIVE_CLASS = "Inactifs"
BLOCK = 1 << 16
_T = TypeVar("_T")


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


@dataclass(slots=True)
class _Element:
    line: int
    attrs: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)
    groups: list[dict[str, str]] = field(default_factory=list)  # nested elements (STRUCTURE)


Emit = Callable[[str, _Element], None]


class _Handler(xml.sax.handler.ContentHandler):
    """Collects the elements at the given depth-4 paths (root/DONNEES/list/item) with their children's text."""

    def __init__(self, parser: xml.sax.xmlreader.XMLReader, root: str, items: set[tuple[str, str]], emit: Emit) -> None:
        super().__init__()
        self.parser = parser
        self.root = root
        self.items = items
        self.emit = emit
        self.path: list[str] = []
        self.params: dict[str, str] = {}
        self.current: _Element | None = None
        self.group: dict[str, str] | None = None
        self.text: list[str] = []
        self.collecting = False

    def _line(self) -> int:
        return int(self.parser.getLineNumber())  # type: ignore[attr-defined]

    def startElement(self, name: str, attrs: xml.sax.xmlreader.AttributesImpl) -> None:  # noqa: N802 (SAX names)
        path = self.path
        path.append(name)
        depth = len(path)
        if depth == 1:
            if name != self.root:
                raise _WrongRoot(name)
            return
        if self.current is not None:
            if depth == 5:  # noqa: PLR2004 (a field of the item, or a group such as STRUCTURE)
                self.text = []
                self.collecting = True
            elif depth == 6:  # noqa: PLR2004 (a field inside a group)
                if self.group is None:
                    self.group = {}
                    self.current.groups.append(self.group)
                self.collecting = True
                self.text = []
            return
        if depth == 4 and path[1] == "DONNEES" and (path[2], name) in self.items:  # noqa: PLR2004
            self.current = _Element(self._line(), {k: attrs.getValue(k) for k in attrs.getNames()})
        elif depth == 3 and path[1] == "PARAMETRES":  # noqa: PLR2004
            self.text = []
            self.collecting = True

    def characters(self, content: str) -> None:
        if self.collecting:
            self.text.append(content)

    def endElement(self, name: str) -> None:  # noqa: N802 (SAX names)
        path = self.path
        depth = len(path)
        current = self.current
        if current is not None:
            if depth == 4:  # noqa: PLR2004
                self.emit(path[2], current)
                self.current = None
            elif depth == 5:  # noqa: PLR2004
                if self.group is not None:
                    self.group = None
                elif self.collecting:
                    current.fields[name] = "".join(self.text).strip()
            elif depth == 6 and self.group is not None:  # noqa: PLR2004
                self.group[name] = "".join(self.text).strip()
        elif depth == 3 and path[1] == "PARAMETRES":  # noqa: PLR2004
            self.params[name] = "".join(self.text).strip()
        self.collecting = False
        path.pop()


class _WrongRoot(Exception):
    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.root = root


class _File:
    """A SIECLE file on a seekable binary handle, its encoding decided once, read in blocks as often as needed."""

    def __init__(self, handle: IO[bytes], *, max_bytes: int | None) -> None:
        self.handle = handle
        self.start = handle.tell()
        self.max_bytes = max_bytes
        self.bytes_read = 0
        chosen = decide(handle, self._count)
        self.encoding = chosen
        self.bytes_read = 0

    def _count(self, size: int) -> None:
        self.bytes_read += size
        if self.max_bytes is not None and self.bytes_read > self.max_bytes:
            raise ImportTooLarge(too_large_message(self.max_bytes))

    def texts(self) -> Iterator[str]:
        """The file decoded, in blocks (a file of one long line is read in pieces too)."""
        self.handle.seek(self.start)
        self.bytes_read = 0
        decoder = codecs.getincrementaldecoder(self.encoding.codec)()
        first = True
        while block := self.handle.read(BLOCK):
            self._count(len(block))
            if first:
                first = False
                block = block.removeprefix(self.encoding.bom)
            yield decoder.decode(block)
        yield decoder.decode(b"", final=True)

    def parse(self, root: str, items: set[tuple[str, str]], emit: Emit) -> dict[str, str]:
        """One pass: `emit` gets each item element; returns PARAMETRES. Whole-file faults raise ImportFileError."""
        parser = defusedxml.sax.make_parser()
        handler = _Handler(parser, root, items, emit)
        parser.setContentHandler(handler)
        try:
            for text in self.texts():
                parser.feed(text)
            parser.close()
        except xml.sax.SAXParseException as exc:
            msg = gettext("XML mal formé : %(error)s. Le fichier est peut-être incomplet : téléchargez-le de nouveau.")
            raise ImportFileError(msg % {"error": exc.getMessage()}, line=exc.getLineNumber()) from exc
        except DefusedXmlException as exc:
            raise ImportFileError(gettext("XML refusé : les entités et DTD ne sont pas acceptées.")) from exc
        except _WrongRoot as exc:
            raise ImportFileError(wrong_root_message(exc.root, root), line=1) from exc
        return handler.params


def wrong_root_message(found: str, expected: str) -> str:
    names = {PUPILS_ROOT: "ElevesSansAdresses.xml", GUARDIANS_ROOT: "ResponsablesAvecAdresses.xml"}
    if found in names:
        return gettext("Ce fichier est %(found)s, et non %(expected)s.") % {
            "found": names[found],
            "expected": names[expected],
        }
    return gettext("Ce fichier n'est pas %(expected)s de SIECLE (élément racine <%(root)s>).") % {
        "expected": names[expected],
        "root": found[:40],
    }


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


def _usage(fields: dict[str, str]) -> tuple[str, str]:
    """(usage or birth name, birth name); older exports name the birth name NOM."""
    birth = fields.get("NOM_DE_FAMILLE") or fields.get("NOM", "")
    return fields.get("NOM_USAGE") or birth, birth


def _stream(file: _File, root: str, items: set[tuple[str, str]], emit: Emit, done: list[_T]) -> Iterator[_T]:
    """A second pass over a surveyed file: the rows `emit` appends to `done`, handed out as each block is parsed."""
    parser = defusedxml.sax.make_parser()
    parser.setContentHandler(_Handler(parser, root, items, emit))
    for text in file.texts():
        parser.feed(text)
        yield from done
        done.clear()
    parser.close()
    yield from done
    done.clear()


class SieclePupils:
    """ElevesSansAdresses.xml or ElevesAvecAdresses.xml: checked whole when made, then iterated for its pupils."""

    def __init__(
        self,
        handle: IO[bytes],
        *,
        expected_uaj: str | None = None,
        today: date | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.file = _File(handle, max_bytes=max_bytes)
        self.today = today or timezone.localdate()
        self.classes: dict[str, str] = {}
        self.count = 0
        first_line: dict[str, int] = {}
        interned: dict[str, str] = {}

        def survey(kind: str, element: _Element) -> None:
            source_id = element.attrs.get("ELEVE_ID", "").strip()
            if kind == "ELEVES":
                if not source_id:
                    raise ImportFileError(gettext("Élève sans attribut ELEVE_ID."), line=element.line)
                seen = first_line.setdefault(source_id, element.line)
                if seen != element.line:
                    raise _duplicate("ELEVE_ID", source_id, element.line, seen)
                self.count += 1
                return
            for structure in element.groups:
                code = structure.get("CODE_STRUCTURE", "")
                if structure.get("TYPE_STRUCTURE") == CLASS_TYPE and code and code != INACTIVE_CLASS:
                    self.classes[source_id] = interned.setdefault(code, code)

        items = {("ELEVES", "ELEVE"), ("STRUCTURES", "STRUCTURES_ELEVE")}
        params = self.file.parse(PUPILS_ROOT, items, survey)
        self.uaj = _check_school(params, expected_uaj)
        self.year = params.get("ANNEE_SCOLAIRE", "")
        if not self.count:
            raise ImportFileError(
                gettext("Le fichier des élèves ne contient aucun élève : rien n'a été importé."),
            )

    @property
    def encoding(self) -> str:
        return self.file.encoding.label

    def __iter__(self) -> Iterator[SieclePupil]:
        done: list[SieclePupil] = []

        def row(kind: str, element: _Element) -> None:
            done.append(self._pupil(element))

        # The survey parsed the same bytes: no fault is left to meet in this pass.
        yield from _stream(self.file, PUPILS_ROOT, {("ELEVES", "ELEVE")}, row, done)

    def _pupil(self, element: _Element) -> SieclePupil:
        f = element.fields
        source_id = element.attrs["ELEVE_ID"].strip()
        last, birth_name = _usage(f)
        born = f.get("DATE_NAISS", "")
        left_on = parse_date(f.get("DATE_SORTIE", "")) if f.get("DATE_SORTIE") else None
        return SieclePupil(
            source_id=source_id,
            line=element.line,
            ine=f.get("ID_NATIONAL", "").replace(" ", "").upper(),
            last_name=last,
            birth_name=birth_name,
            first_name=f.get("PRENOM", ""),
            birth_date=parse_date(born) if born else None,
            birth_date_text=born,
            class_name=self.classes.get(source_id, ""),
            left_on=left_on,
            left=left_on is not None and left_on <= self.today,
            uaj=self.uaj,
        )


class SiecleGuardians:
    """ResponsablesAvecAdresses.xml: checked whole when made, then iterated for its people and links in file order."""

    def __init__(self, handle: IO[bytes], *, expected_uaj: str | None = None, max_bytes: int | None = None) -> None:
        self.file = _File(handle, max_bytes=max_bytes)
        self.people_count = 0
        self.link_count = 0
        self._first_line: dict[str, int] = {}
        self._pairs: set[tuple[str, str]] = set()
        self._unknown: list[tuple[str, int]] = []
        items = {("PERSONNES", "PERSONNE"), ("RESPONSABLES", "RESPONSABLE_ELEVE")}
        params = self.file.parse(GUARDIANS_ROOT, items, self._survey)
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
        del self._first_line, self._pairs  # the identifiers are not needed once the file is checked

    def _survey(self, kind: str, element: _Element) -> None:
        if kind == "PERSONNES":
            source_id = element.attrs.get("PERSONNE_ID", "").strip()
            if not source_id:
                raise ImportFileError(gettext("Personne sans attribut PERSONNE_ID."), line=element.line)
            seen = self._first_line.setdefault(source_id, element.line)
            if seen != element.line:
                raise _duplicate("PERSONNE_ID", source_id, element.line, seen)
            self.people_count += 1
            return
        person = element.fields.get("PERSONNE_ID", "")
        pupil = element.fields.get("ELEVE_ID", "")
        if not person or not pupil:
            raise ImportFileError(gettext("Lien responsable–élève sans ELEVE_ID ou PERSONNE_ID."), line=element.line)
        if (pupil, person) in self._pairs:
            msg = gettext("Lien en double entre l'élève %(eleve)s et la personne %(personne)s.")
            raise ImportFileError(msg % {"eleve": pupil[:20], "personne": person[:20]}, line=element.line)
        self._pairs.add((pupil, person))
        if person not in self._first_line:
            self._unknown.append((person, element.line))
        self.link_count += 1

    @property
    def encoding(self) -> str:
        return self.file.encoding.label

    def __iter__(self) -> Iterator[SiecleGuardian | SiecleLink]:
        done: list[SiecleGuardian | SiecleLink] = []

        def row(kind: str, element: _Element) -> None:
            done.append(self._guardian(element) if kind == "PERSONNES" else self._link(element))

        items = {("PERSONNES", "PERSONNE"), ("RESPONSABLES", "RESPONSABLE_ELEVE")}
        yield from _stream(self.file, GUARDIANS_ROOT, items, row, done)

    def guardians(self) -> Iterator[SiecleGuardian]:
        return (row for row in self if isinstance(row, SiecleGuardian))

    def links(self) -> Iterator[SiecleLink]:
        return (row for row in self if isinstance(row, SiecleLink))

    def _guardian(self, element: _Element) -> SiecleGuardian:
        f = element.fields
        last, birth_name = _usage(f)
        return SiecleGuardian(
            source_id=element.attrs["PERSONNE_ID"].strip(),
            line=element.line,
            last_name=last,
            birth_name=birth_name,
            first_name=f.get("PRENOM", ""),
            mobile=f.get("TEL_PORTABLE", ""),
            email=f.get("MEL", ""),
            uaj=self.uaj,
        )

    def _link(self, element: _Element) -> SiecleLink:
        f = element.fields
        return SiecleLink(
            pupil_source_id=f["ELEVE_ID"],
            guardian_source_id=f["PERSONNE_ID"],
            line=element.line,
            legal=f.get("RESP_LEGAL", ""),
            kinship=f.get("CODE_PARENTE", ""),
            uaj=self.uaj,
        )
