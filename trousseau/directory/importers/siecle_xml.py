"""How SIECLE's XML is read: one streaming parse per file, the wanted fields spooled to disk for the rows.

siecle.py says what a pupils or guardians file holds and checks it; this module walks the bytes: the
whole-file encoding rule (encoding.py), no DTD and the expected root before parsing, lxml's pull parser
with every item dropped from the tree once read, and a temporary file (marshal, in small batches) that
keeps what the rows need until the whole file has been checked.
"""

from __future__ import annotations

import codecs
import marshal
import os
import re
import tempfile
import threading
import weakref
from collections.abc import Iterator
from typing import IO, Any, ClassVar

from django.utils.translation import gettext
from lxml import etree

from trousseau.directory.importers.encoding import decide
from trousseau.directory.importers.exports import Inflated
from trousseau.directory.importers.reading import too_large_message
from trousseau.directory.importers.report import ImportFileError, ImportTooLarge

PUPILS_ROOT, GUARDIANS_ROOT = "BEE_ELEVES", "BEE_RESPONSABLES"
BLOCK = 1 << 16


# The elements handed out (and then dropped from the tree being built): the items of every list SIECLE
# writes in these two files, so no part of the file piles up in memory, and PARAMETRES.
ITEM_TAGS = ("PARAMETRES", "ELEVE", "OPTION", "STRUCTURES_ELEVE", "PERSONNE", "RESPONSABLE_ELEVE", "ADRESSE")
# What the readers take from each item they want (list, item): its identifier attribute, then its fields.
PUPIL_ITEM = ("ELEVE_ID", ("ID_NATIONAL", "NOM_DE_FAMILLE", "NOM", "NOM_USAGE", "PRENOM", "DATE_NAISS", "DATE_SORTIE"))
STRUCTURES_ITEM = ("ELEVE_ID", None)  # None: the item's groups (STRUCTURE), not its fields
PERSON_ITEM = ("PERSONNE_ID", ("NOM_DE_FAMILLE", "NOM", "NOM_USAGE", "PRENOM", "TEL_PORTABLE", "MEL"))
LINK_ITEM = ("", ("ELEVE_ID", "PERSONNE_ID", "RESP_LEGAL", "CODE_PARENTE"))
Wanted = dict[tuple[str, str], tuple[str, tuple[str, ...] | None]]
_FIRST_TAG = re.compile(r"<([A-Za-z_][A-Za-z0-9_.-]*)")
_DECLARED = re.compile(r"""^(<\?xml[^>]*?\sencoding\s*=\s*["'])[A-Za-z0-9._-]+(["'])""")
SPOOL_BATCH = 256


class _Shelf:
    """One temporary file that every spool of the process appends to (one descriptor, however many files)."""

    current: ClassVar[weakref.ReferenceType[_Shelf] | None] = None
    lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the last spool that holds it)
        self.size = 0

    @classmethod
    def shared(cls) -> _Shelf:
        with cls.lock:
            shelf = cls.current() if cls.current is not None else None
            if shelf is None:
                shelf = cls()
                cls.current = weakref.ref(shelf)
            return shelf

    def append(self, data: bytes) -> int:
        with self.lock:
            at, self.size = self.size, self.size + len(data)
        os.pwrite(self.file.fileno(), data, at)
        return at

    def read(self, at: int, size: int) -> bytes:
        return os.pread(self.file.fileno(), size, at)


class Spool:
    """What the checking pass read, kept on disk (marshal) for the rows pass: memory holds a batch, never the rows."""

    def __init__(self) -> None:
        self.shelf = _Shelf.shared()
        self.batch: list[tuple[Any, ...]] = []
        self.index: list[tuple[int, int]] = []

    def add(self, row: tuple[Any, ...]) -> None:
        self.batch.append(row)
        if len(self.batch) >= SPOOL_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            data = marshal.dumps(self.batch)
            self.index.append((self.shelf.append(data), len(data)))
            self.batch = []

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for at, size in self.index:
            yield from marshal.loads(self.shelf.read(at, size))  # noqa: S302 (our own bytes, written above)


class Progress:
    """The rows pass reads no byte of the file: its progress is told as the share of the rows handed out."""

    def __init__(self, file: SiecleFile, rows: int) -> None:
        self.file, self.total, self.rows, self.done = file, file.bytes_read, max(rows, 1), 0
        file.bytes_read = 0

    def step(self) -> None:
        self.done += 1
        self.file.bytes_read = self.total * self.done // self.rows


class SiecleFile:
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

    def elements(self, root: str, wanted: Wanted) -> Iterator[tuple[str, int, str, Any]]:
        """(list, line, identifier, fields or groups) of each wanted item in file order, and PARAMETRES.

        Faults raise ImportFileError. Fields are a tuple of the wanted fields' texts, stripped ("" when
        absent; the last one when written twice); groups a list of {leaf: text} of the nested elements.
        """
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
                yield from _drain(parser, wanted)
            parser.close()
        except etree.XMLSyntaxError as exc:
            msg = gettext("XML mal formé : %(error)s. Le fichier est peut-être incomplet : téléchargez-le de nouveau.")
            raise ImportFileError(msg % {"error": exc.msg}, line=exc.lineno) from exc
        yield from _drain(parser, wanted)
        if isinstance(self.handle, Inflated):
            self.handle.close()  # read through: what the rows need is spooled (an académie's files must not pile up)


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


def _drain(parser: etree.XMLPullParser, wanted: Wanted) -> Iterator[tuple[str, int, str, Any]]:
    for _, element in parser.read_events():
        parent = element.getparent()
        if parent is None:
            continue
        grand = parent.getparent()
        if grand is None:
            if element.tag == "PARAMETRES":
                yield "PARAMETRES", element.sourceline, "", _texts(element)
        elif grand.tag == "DONNEES" and (what := wanted.get((parent.tag, element.tag))) is not None:
            attribute, names = what
            ident = element.get(attribute, "") if attribute else ""
            if names is None:
                groups = [_texts(child) for child in element if len(child)]
                yield parent.tag, element.sourceline, ident, groups
            else:
                # Only the wanted children are visited (lxml filters them by name).
                found = {child.tag: child.text for child in element.iterchildren(*names) if not len(child)}
                values = tuple((found.get(name) or "").strip() for name in names)
                yield parent.tag, element.sourceline, ident, values
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
