"""SIECLE's "Exports XML génériques", read as they come: ElevesSans/AvecAdresses.xml, ResponsablesAvecAdresses.xml.

The files (docs/school-exports.md) hold one school (`PARAMETRES/UAJ`). A pupils file lists its pupils in
`DONNEES/ELEVES/ELEVE[@ELEVE_ID]` and, after them, their classes in `DONNEES/STRUCTURES/STRUCTURES_ELEVE`
(the structure of `TYPE_STRUCTURE` `D` is the class); a guardians file lists people in
`DONNEES/PERSONNES/PERSONNE[@PERSONNE_ID]`, then the links in `DONNEES/RESPONSABLES/RESPONSABLE_ELEVE`.

Reading streams, never builds a tree: a first pass checks the whole file (well-formed, the expected root,
the school, no identifier twice) and keeps what the rows need from later in the file (the pupils'
classes); only then are rows read, in a second pass, so a file refused as a whole yields no row. Memory
holds those identifiers and the classes, never the rows: lxml builds the tree as it reads, and every
item is dropped from it once handed out. A DTD is refused before parsing, and the parser neither
resolves entities nor reaches the network;
the encoding is decided once for the whole file (encoding.py), as for every import.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext
from lxml import etree

from trousseau.directory.importers.encoding import decide
from trousseau.directory.importers.reading import too_large_message
from trousseau.directory.importers.report import ImportFileError, ImportTooLarge
from trousseau.directory.importers.rows import parse_date

PUPILS_ROOT, GUARDIANS_ROOT = "BEE_ELEVES", "BEE_RESPONSABLES"
CLASS_TYPE = "D"  # TYPE_STRUCTURE of a class ("division"); "G" is a group
# SIECLE files pupils without a class of the year under this structure (Pix skips it too).
INACTIVE_CLASS = "Inactifs"
BLOCK = 1 << 16


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


# The elements handed out (and then dropped from the tree being built): the items of every list SIECLE
# writes in these two files, so no part of the file piles up in memory, and PARAMETRES.
ITEM_TAGS = ("PARAMETRES", "ELEVE", "OPTION", "STRUCTURES_ELEVE", "PERSONNE", "RESPONSABLE_ELEVE", "ADRESSE")
_FIRST_TAG = re.compile(r"<([A-Za-z_][A-Za-z0-9_.-]*)")
_DECLARED = re.compile(r"""^(<\?xml[^>]*?\sencoding\s*=\s*["'])[A-Za-z0-9._-]+(["'])""")


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

    def chunks(self) -> Iterator[bytes]:
        """The file in UTF-8, in blocks, its declaration saying so: decoded as the whole-file rule decided."""
        self.handle.seek(self.start)
        self.bytes_read = 0
        decoder = codecs.getincrementaldecoder(self.encoding.codec)()
        first = True
        while block := self.handle.read(BLOCK):
            self._count(len(block))
            text = decoder.decode(block.removeprefix(self.encoding.bom) if first else block)
            if first:
                first = False
                text = _DECLARED.sub(r"\1UTF-8\2", text, count=1)
            yield text.encode("utf-8")
        yield decoder.decode(b"", final=True).encode("utf-8")

    def elements(self, root: str, items: set[tuple[str, str]]) -> Iterator[tuple[str, _Element]]:
        """(list, item) of each wanted item in file order, and ("PARAMETRES", its fields); faults raise ImportFileError."""
        parser = etree.XMLPullParser(
            events=("end",),
            tag=ITEM_TAGS,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        first = True
        try:
            for chunk in self.chunks():
                if first:
                    first = False
                    _check_head(chunk, root)
                parser.feed(chunk)
                yield from _drain(parser, items)
            parser.close()
        except etree.XMLSyntaxError as exc:
            msg = gettext("XML mal formé : %(error)s. Le fichier est peut-être incomplet : téléchargez-le de nouveau.")
            raise ImportFileError(msg % {"error": exc.msg}, line=exc.lineno) from exc
        yield from _drain(parser, items)


def _check_head(chunk: bytes, root: str) -> None:
    """No DTD (so no entity), and the expected root element, before anything is parsed."""
    head = chunk.decode("utf-8", errors="replace")
    found = _FIRST_TAG.search(head)  # neither <?xml nor <!-- nor <!DOCTYPE: the root element
    prolog = head[: found.start()] if found else head
    if "<!DOCTYPE" in prolog or "<!ENTITY" in prolog:
        raise ImportFileError(gettext("XML refusé : les entités et DTD ne sont pas acceptées."))
    if found is None:  # 64 KB of prolog: no export looks like this
        raise ImportFileError(wrong_root_message("", root), line=1)
    if found.group(1) != root:
        raise ImportFileError(wrong_root_message(found.group(1), root), line=1)


def _drain(parser: etree.XMLPullParser, items: set[tuple[str, str]]) -> Iterator[tuple[str, _Element]]:
    for _, element in parser.read_events():
        parent = element.getparent()
        if parent is None:
            continue
        grand = parent.getparent()
        if element.tag == "PARAMETRES" and grand is None:
            yield "PARAMETRES", _Element(element.sourceline, {}, _texts(element))
        elif grand is not None and grand.tag == "DONNEES" and (parent.tag, element.tag) in items:
            groups = [_texts(child) for child in element if len(child)]
            yield parent.tag, _Element(element.sourceline, dict(element.attrib), _texts(element), groups)
        # Done with it: the tree being built keeps nothing of the rows read.
        element.clear(keep_tail=False)
        while element.getprevious() is not None:
            del parent[0]


def _texts(element: etree._Element) -> dict[str, str]:
    return {child.tag: (child.text or "").strip() for child in element if isinstance(child.tag, str) and not len(child)}


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

        params: dict[str, str] = {}
        for kind, element in self.file.elements(PUPILS_ROOT, {("ELEVES", "ELEVE"), ("STRUCTURES", "STRUCTURES_ELEVE")}):
            if kind == "PARAMETRES":
                params = element.fields
                _check_school(params, expected_uaj)  # PARAMETRES come first: another school is refused at once
            else:
                survey(kind, element)
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
        # The survey parsed the same bytes: no fault is left to meet in this pass.
        for kind, element in self.file.elements(PUPILS_ROOT, {("ELEVES", "ELEVE")}):
            if kind == "ELEVES":
                yield self._pupil(element)

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
        params: dict[str, str] = {}
        for kind, element in self.file.elements(GUARDIANS_ROOT, items):
            if kind == "PARAMETRES":
                params = element.fields
                _check_school(params, expected_uaj)  # PARAMETRES come first: another school is refused at once
            else:
                self._survey(kind, element)
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
        items = {("PERSONNES", "PERSONNE"), ("RESPONSABLES", "RESPONSABLE_ELEVE")}
        for kind, element in self.file.elements(GUARDIANS_ROOT, items):
            if kind == "PERSONNES":
                yield self._guardian(element)
            elif kind == "RESPONSABLES":
                yield self._link(element)

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
