"""Reading an export as SIECLE and ONDE write them: CSV (`;`, `,` or tab) or XML, UTF-8 or Latin-1.

A file is read line by line, never whole: the web path caps its size, the command line reads files of
gigabytes. Its encoding is decided for the whole file by a first pass (encoding.py), then every line
is decoded with it.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import xml.sax
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import defusedxml.sax
from defusedxml.common import DefusedXmlException
from django.utils.translation import gettext

from trousseau.core.text import fold
from trousseau.directory.importers.encoding import UTF8, decide
from trousseau.directory.importers.report import ImportFileError, ImportTooLarge

# One CSV field may not be longer than this: an unclosed quote otherwise swallows the whole file.
MAX_FIELD = 10_000


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # as documented (docs/import-format.md) and as error reports name it
    aliases: tuple[str, ...] = ()
    required: bool = True


@dataclass(slots=True)
class Record:
    line: int
    values: dict[str, str]  # Column.name -> stripped text; a missing optional column reads as ""


class Source:
    """A binary file read line by line: counts bytes, enforces the cap, decides the encoding first."""

    def __init__(self, handle: IO[bytes], *, max_bytes: int | None = None, size: int | None = None) -> None:
        if not handle.seekable():  # a pipe: the encoding survey reads the file once before its rows
            spool = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the Source)
            shutil.copyfileobj(handle, spool)
            spool.seek(0)
            handle = spool
        self.handle = handle
        self.max_bytes = max_bytes
        self.size = size
        self.bytes_read = 0
        self.encoding = UTF8.label
        if max_bytes is not None and size is not None and size > max_bytes:
            raise ImportTooLarge(too_large_message(max_bytes))

    def _count(self, size: int) -> None:
        self.bytes_read += size
        if self.max_bytes is not None and self.bytes_read > self.max_bytes:
            raise ImportTooLarge(too_large_message(self.max_bytes))

    def lines(self) -> Iterator[str]:
        start = self.handle.tell()
        chosen = decide(self.handle, self._count)
        self.encoding = chosen.label
        self.handle.seek(start)
        self.bytes_read = 0  # progress follows the reading pass, not the survey
        first = True
        for raw in self.handle:
            self._count(len(raw))
            if first:
                first = False
                raw = raw.removeprefix(chosen.bom)  # noqa: PLW2901 (the BOM is no part of the header)
            # The survey read every line with this codec: nothing is replaced or guessed here.
            yield raw.decode(chosen.codec)


def too_large_message(max_bytes: int) -> str:
    return gettext(
        "Le fichier dépasse la taille maximale de %(size)s Mo. Pour un fichier de cette taille, "
        "demandez à l'académie l'import en ligne de commande."
    ) % {"size": max_bytes // (1024 * 1024)}


def read_records(source: Source, columns: list[Column], *, record_tag: str) -> Iterator[Record]:
    """The rows of a CSV or XML export, columns mapped to their documented names."""
    lines = source.lines()
    for first in lines:
        if not first.strip():
            continue
        rest = _chain(first, lines)
        if first.lstrip().startswith("<"):
            yield from _xml_records(rest, columns, record_tag)
        else:
            yield from _csv_records(rest, columns)
        return
    raise ImportFileError(gettext("Le fichier est vide."))


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _lookup(columns: list[Column]) -> dict[str, Column]:
    table: dict[str, Column] = {}
    for column in columns:
        for name in (column.name, *column.aliases):
            table[fold(name)] = column
    return table


def _missing(columns: list[Column], found: set[str]) -> None:
    missing = [c.name for c in columns if c.required and c.name not in found]
    if missing:
        msg = gettext("Colonne obligatoire absente : %(columns)s.") % {"columns": ", ".join(missing)}
        raise ImportFileError(msg, line=1)


def csv_rows(lines: Iterator[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, cells) of the rows after the header (line 1), blank rows skipped.

    A quote left open swallows the rest of the file into one cell: a cell longer than MAX_FIELD is
    refused as the unreadable line it is, at the line where its row starts, as csv's own errors are.
    """
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    consumed = 0  # lines the reader took after the header
    while True:
        start = consumed + 2
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(gettext("Ligne CSV illisible (guillemet non fermé ?)."), line=start) from exc
        consumed = reader.line_num
        if not "".join(cells).strip():
            continue
        if max(map(len, cells)) > MAX_FIELD:
            raise ImportFileError(gettext("Ligne CSV illisible (guillemet non fermé ?)."), line=start)
        yield start, cells


def _csv_records(lines: Iterator[str], columns: list[Column]) -> Iterator[Record]:
    header_line = next(lines)
    delimiter = max(";,\t", key=header_line.count)
    lookup = _lookup(columns)
    try:
        header = next(csv.reader([header_line], delimiter=delimiter))
    except csv.Error as exc:  # a stray carriage return or NUL in the header (found by tests/security/test_fuzz.py)
        raise ImportFileError(gettext("Ligne d'en-tête CSV illisible."), line=1) from exc
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        column = lookup.get(fold(name))
        if column and column.name not in positions:
            positions[column.name] = index
    _missing(columns, set(positions))
    present = list(positions.items())
    absent = [c.name for c in columns if c.name not in positions]
    for start, cells in csv_rows(lines, delimiter):
        width = len(cells)
        values = dict.fromkeys(absent, "")
        for name, i in present:
            values[name] = cells[i].strip() if i < width else ""
        yield Record(line=start, values=values)


class _Handler(xml.sax.handler.ContentHandler):
    def __init__(self, parser: xml.sax.xmlreader.XMLReader, lookup: dict[str, Column], record_tag: str) -> None:
        super().__init__()
        self.parser = parser
        self.lookup = lookup
        self.record_tag = record_tag
        self.done: list[Record] = []
        self.current: Record | None = None
        self.field: str | None = None
        self.text: list[str] = []
        self.seen: set[str] = set()
        self.count = 0

    def startElement(self, name: str, attrs: object) -> None:  # noqa: N802 (SAX names)
        if name == self.record_tag:
            self.current = Record(line=self.parser.getLineNumber(), values={})  # type: ignore[attr-defined]
        elif self.current is not None:
            column = self.lookup.get(fold(name))
            self.field = column.name if column else None
            self.text = []

    def characters(self, content: str) -> None:
        if self.field is not None:
            self.text.append(content)

    def endElement(self, name: str) -> None:  # noqa: N802 (SAX names)
        if name == self.record_tag and self.current is not None:
            self.done.append(self.current)
            self.current = None
            self.count += 1
        elif self.current is not None and self.field is not None:
            self.current.values[self.field] = "".join(self.text).strip()
            self.seen.add(self.field)
            self.field = None


def _xml_records(lines: Iterator[str], columns: list[Column], record_tag: str) -> Iterator[Record]:
    parser = defusedxml.sax.make_parser()
    handler = _Handler(parser, _lookup(columns), record_tag)
    parser.setContentHandler(handler)
    try:
        for text in lines:
            parser.feed(text)
            yield from _drain(handler, columns)
        parser.close()
    except xml.sax.SAXParseException as exc:
        msg = gettext("XML mal formé : %(error)s.") % {"error": exc.getMessage()}
        raise ImportFileError(msg, line=exc.getLineNumber()) from exc
    except DefusedXmlException as exc:
        raise ImportFileError(gettext("XML refusé : les entités et DTD ne sont pas acceptées.")) from exc
    yield from _drain(handler, columns)
    if not handler.count:
        raise ImportFileError(gettext("Aucun élément <%(tag)s> dans le fichier XML.") % {"tag": record_tag})
    # Checked at the end: a file that lacks a column is refused whole, like a CSV without it.
    _missing(columns, handler.seen)


def _drain(handler: _Handler, columns: list[Column]) -> Iterator[Record]:
    done, handler.done = handler.done, []
    for record in done:
        for column in columns:
            record.values.setdefault(column.name, "")
        yield record
