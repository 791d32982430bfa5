"""The encoding of a school file, decided once for the whole file before any row is read.

Deciding line by line let one Latin-1 line inside a UTF-8 file switch the rest of it to Windows-1252:
every later "Éloïse" became "Ã‰loÃ¯se" in the directory, the accounts, the letters and what the
services receive (issue #15, finding 13). So the file is surveyed first, in blocks, and then:
its byte order mark, else its XML declaration, else UTF-8 when every line is UTF-8, else Windows-1252
when no line is (the "ANSI" of older tools, a superset of Latin-1 for text). A file whose lines
disagree, or that none of these reads cleanly, is refused with the line that breaks it.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext

from trousseau.directory.importers.report import ImportFileError

BOM = codecs.BOM_UTF8
BLOCK = 1 << 20
# Where a UTF-8 multi-byte sequence may start: a cheap sign that a Windows-1252 block may hide a UTF-8
# line. Lines it points at are then decoded whole, so a stray pair of Latin-1 letters is not enough.
_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
_DECLARATION = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")


@dataclass(frozen=True, slots=True)
class Encoding:
    label: str  # as the import report and the audit trail name it
    codec: str  # Python's codec
    bom: bytes = b""


UTF8 = Encoding("UTF-8", "utf-8")
UTF8_BOM = Encoding("UTF-8 (BOM)", "utf-8", BOM)
WINDOWS_1252 = Encoding("Windows-1252", "cp1252")
# What an XML declaration may name, by Python's codec name. ISO-8859-1 is read as Windows-1252, as
# browsers do (WHATWG Encoding): its extra letters (œ, Ÿ, ’) sit where Latin-1 has only control codes.
DECLARABLE = {
    "utf-8": UTF8,
    "ascii": UTF8,
    "iso8859-1": Encoding("ISO-8859-1", "cp1252"),
    "cp1252": WINDOWS_1252,
    "iso8859-15": Encoding("ISO-8859-15", "iso8859-15"),
}
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(slots=True)
class Survey:
    """What one pass over the file found: its first line, and the first line of each kind (numbered from 1)."""

    head: bytes = b""
    utf8: int | None = None  # a line in UTF-8 with at least one non-ASCII character
    not_utf8: int | None = None  # a line that is not UTF-8
    not_cp1252: int | None = None  # a line that is not UTF-8 and that Windows-1252 cannot read either
    mostly_not_utf8: bool = False  # in a file that mixes both: whether most non-ASCII lines are not UTF-8


def decide(handle: IO[bytes], on_bytes: Callable[[int], None]) -> Encoding:
    """The encoding of the whole file, read from where the handle stands; ImportFileError if none fits.

    `on_bytes` is told the size of each block read (the caller enforces its size cap there). The handle
    is left anywhere: the caller seeks back.
    """
    start = handle.tell()
    found = survey(handle, on_bytes)
    if found.utf8 is not None and found.not_utf8 is not None:
        handle.seek(start)
        found.mostly_not_utf8 = _mostly_not_utf8(handle)
    return judge(found)


def survey(handle: IO[bytes], on_bytes: Callable[[int], None]) -> Survey:
    found = Survey()
    line = 1  # the number of the block's first line
    for block in _blocks(handle, on_bytes):
        if line == 1:
            found.head = block.split(b"\n", 1)[0]
        if not block.isascii() and _may_tell_more(block, found):
            _classify_lines(block, line, found)
        line += block.count(b"\n")
    return found


def _blocks(handle: IO[bytes], on_bytes: Callable[[int], None]) -> Iterator[bytes]:
    """The file in blocks of whole lines (a line is never split between two blocks)."""
    while block := handle.read(BLOCK):
        if not block.endswith(b"\n"):
            block += handle.readline()
        on_bytes(len(block))
        yield block


def _may_tell_more(block: bytes, found: Survey) -> bool:
    """Whether this block's lines must be looked at one by one (most blocks of a clean file need not)."""
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return found.utf8 is None
    if found.not_utf8 is None or (found.utf8 is None and _MULTIBYTE.search(block)):
        return True
    if found.not_cp1252 is None:
        try:
            block.decode("cp1252")
        except UnicodeDecodeError:
            return True
    return False


def _classify_lines(block: bytes, first: int, found: Survey) -> None:
    for offset, raw in enumerate(block.split(b"\n")):
        if raw.isascii():
            continue
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            if found.not_utf8 is None:
                found.not_utf8 = first + offset
            if found.not_cp1252 is None and not _reads_as(raw, "cp1252"):
                found.not_cp1252 = first + offset
        else:
            if found.utf8 is None:
                found.utf8 = first + offset


def _mostly_not_utf8(handle: IO[bytes]) -> bool:
    """A second pass, for a file about to be refused only: which kind of line is the odd one out."""
    utf8 = other = 0
    for raw in handle:
        if not raw.isascii():
            if _reads_as(raw, "utf-8"):
                utf8 += 1
            else:
                other += 1
    return other > utf8


def _reads_as(raw: bytes, codec: str) -> bool:
    try:
        raw.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def judge(found: Survey) -> Encoding:
    """The encoding a survey points to: BOM, else declaration, else UTF-8, else Windows-1252."""
    if found.head.startswith(BOM):
        if found.not_utf8 is not None:
            raise _breaks_declared("UTF-8", found.not_utf8)
        return UTF8_BOM
    if found.head.startswith(UTF16_BOMS):
        raise ImportFileError(
            gettext(
                "Le fichier est en UTF-16 (« Texte Unicode »), que l'import ne lit pas. Enregistrez-le en "
                "UTF-8 (« CSV UTF-8 » dans le tableur), puis importez-le de nouveau."
            ),
            line=1,
        )
    declared = _declaration(found.head)
    if declared is not None:
        return _as_declared(declared, found)
    if found.not_utf8 is None:
        return UTF8
    if found.utf8 is not None:
        raise _mixed(found)
    if found.not_cp1252 is not None:
        raise ImportFileError(
            gettext(
                "Cette ligne n'est ni en UTF-8 ni en Latin-1 (Windows-1252) : un de ses caractères est "
                "illisible. Enregistrez le fichier en UTF-8, puis importez-le de nouveau."
            ),
            line=found.not_cp1252,
        )
    return WINDOWS_1252


def _declaration(head: bytes) -> str | None:
    found = _DECLARATION.match(head)
    return found.group(1).decode("ascii") if found else None


def _as_declared(declared: str, found: Survey) -> Encoding:
    try:
        encoding = DECLARABLE.get(codecs.lookup(declared).name)
    except LookupError:
        encoding = None
    if encoding is None:
        msg = gettext(
            "Le fichier annonce l'encodage %(encoding)s, que l'import ne lit pas. Enregistrez-le en UTF-8, "
            "puis importez-le de nouveau."
        ) % {"encoding": declared}
        raise ImportFileError(msg, line=1)
    if encoding.codec == "utf-8":
        if found.not_utf8 is not None:
            raise _breaks_declared(declared, found.not_utf8)
        return encoding
    if found.utf8 is not None:  # a file saved again in UTF-8 whose declaration was left as it was
        msg = gettext(
            "Le fichier annonce l'encodage %(encoding)s, mais cette ligne est en UTF-8. Enregistrez tout "
            'le fichier en UTF-8 et déclarez-le ainsi (encoding="UTF-8"), puis importez-le de nouveau.'
        ) % {"encoding": declared}
        raise ImportFileError(msg, line=found.utf8)
    if found.not_cp1252 is not None and encoding.codec == "cp1252":
        raise _breaks_declared(declared, found.not_cp1252)
    return encoding


def _breaks_declared(declared: str, line: int) -> ImportFileError:
    msg = gettext(
        "Le fichier annonce l'encodage %(encoding)s, mais cette ligne ne le respecte pas. Enregistrez tout "
        "le fichier en UTF-8, puis importez-le de nouveau."
    ) % {"encoding": declared}
    return ImportFileError(msg, line=line)


def _mixed(found: Survey) -> ImportFileError:
    """The odd line is the first of the fewer kind: the first line not in UTF-8, unless most are not."""
    utf8, latin = ("UTF-8", found.utf8), ("Latin-1 (Windows-1252)", found.not_utf8)
    (odd_name, odd), (main_name, main) = (utf8, latin) if found.mostly_not_utf8 else (latin, utf8)
    msg = gettext(
        "Le fichier mélange deux encodages : cette ligne est en %(odd)s alors que la ligne %(line)d est en "
        "%(encoding)s. Enregistrez tout le fichier en UTF-8 (« CSV UTF-8 » dans le tableur), puis "
        "importez-le de nouveau."
    ) % {"odd": odd_name, "line": main, "encoding": main_name}
    return ImportFileError(msg, line=odd)
