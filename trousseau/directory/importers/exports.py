"""Which school export a file is, before it is read: SIECLE, ONDE or Trousseau's own format, pupils or guardians.

A secretary uploads what she downloaded: a SIECLE .zip or the bare .xml, ONDE's CSV, or a CSV she made.
`recognise(name, handle, slot=...)` looks at the first bytes only (the root element of an XML, the
header of a CSV; for a zip, its members) and says which export it is, or refuses it with a message that
names the file expected where: « Ce fichier est ResponsablesAvecAdresses.xml : déposez-le dans
« Responsables ». » Spreadsheets (.xlsx, .xls, .ods) are refused with the way to save them as CSV.
A truncated or damaged zip is refused here; broken XML, another school's file and duplicated
identifiers are refused by the readers' first pass (siecle.py), before any row.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from enum import StrEnum
from typing import IO

from django.utils.translation import gettext, pgettext

from trousseau.core.text import fold
from trousseau.directory.importers.reading import Column
from trousseau.directory.importers.report import ImportFileError
from trousseau.directory.importers.rows import GUARDIAN_COLUMNS, GUARDIANS, PUPIL_COLUMNS, PUPILS

HEAD = 64 * 1024
# A zip member up to this size is inflated once into memory (a school's export is a few MB); a larger
# one is read from the zip as a stream, inflated by each pass (the encoding survey, the parse).
INFLATED_MAX = 16 * 1024 * 1024
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (and .doc): Microsoft's compound file
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")
# A zip member may not inflate more than this many times its compressed size (a "zip bomb" is refused).
MAX_RATIO = 200
_ROOT = re.compile(rb"<([A-Za-z_][A-Za-z0-9_.-]*)[\s>/]")
_UAJ = re.compile(rb"<UAJ>\s*([0-9A-Za-z]{8})\s*</UAJ>")


class Kind(StrEnum):
    SIECLE_PUPILS = "siecle-eleves"
    SIECLE_GUARDIANS = "siecle-responsables"
    ONDE_PUPILS = "onde-eleves"
    ONDE_GUARDIANS = "onde-responsables"
    OWN_PUPILS = "trousseau-eleves"
    OWN_GUARDIANS = "trousseau-responsables"


SLOT_OF = {
    Kind.SIECLE_PUPILS: PUPILS,
    Kind.ONDE_PUPILS: PUPILS,
    Kind.OWN_PUPILS: PUPILS,
    Kind.SIECLE_GUARDIANS: GUARDIANS,
    Kind.ONDE_GUARDIANS: GUARDIANS,
    Kind.OWN_GUARDIANS: GUARDIANS,
}
SOURCE_OF = {
    Kind.SIECLE_PUPILS: "siecle",
    Kind.SIECLE_GUARDIANS: "siecle",
    Kind.ONDE_PUPILS: "onde",
    Kind.ONDE_GUARDIANS: "onde",
    Kind.OWN_PUPILS: "trousseau",
    Kind.OWN_GUARDIANS: "trousseau",
}


def slot_label(slot: str) -> str:
    """The upload field as the console names it."""
    return pgettext("import slot", "Élèves") if slot == PUPILS else pgettext("import slot", "Responsables")


def kind_label(kind: Kind) -> str:
    """The file as the person downloaded it (the message names it so she finds it again)."""
    labels = {
        Kind.SIECLE_PUPILS: "ElevesSansAdresses.xml",
        Kind.SIECLE_GUARDIANS: "ResponsablesAvecAdresses.xml",
        Kind.ONDE_PUPILS: gettext("l'extraction ONDE des élèves"),
        Kind.ONDE_GUARDIANS: gettext("l'extraction ONDE des responsables"),
        Kind.OWN_PUPILS: gettext("un fichier d'élèves"),
        Kind.OWN_GUARDIANS: gettext("un fichier de responsables"),
    }
    return labels[kind]


@dataclass(frozen=True, slots=True)
class Recognised:
    kind: Kind
    name: str  # the file's name, or the zip member's
    member: str | None  # the zip member to read, None for a bare file
    uaj: str  # SIECLE's PARAMETRES/UAJ when seen in the head, else ""

    @property
    def slot(self) -> str:
        return SLOT_OF[self.kind]

    @property
    def source(self) -> str:
        return SOURCE_OF[self.kind]

    def open(self, handle: IO[bytes]) -> IO[bytes]:
        """The bytes to read: the member of the zip (seekable, inflated as it is read), or the file itself."""
        handle.seek(0)
        if self.member is None:
            return handle
        try:
            archive = zipfile.ZipFile(handle)
            if self.source == "siecle" and archive.getinfo(self.member).file_size <= INFLATED_MAX:
                # A school's export (a few MB): inflated once (its CRC checked), then every pass reads memory;
                # its reader lets it go once read (other formats' readers keep their handle: streamed).
                with archive.open(self.member) as member:
                    return Inflated(member.read())
            with archive.open(self.member) as member:  # inflated once through: a damaged member (bad CRC) is
                while member.read(1 << 20):  # refused here, before any of its rows is read
                    pass
            return archive.open(self.member)  # a larger member is inflated again by each pass
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise ImportFileError(damaged_zip_message()) from exc


class Inflated(io.BytesIO):
    """A zip member inflated in memory; a SIECLE reader closes it once read, so an académie's files do not pile up."""


def damaged_zip_message() -> str:
    return gettext(
        "L'archive .zip est incomplète ou abîmée (téléchargement interrompu ?) : téléchargez-la de nouveau "
        "depuis SIECLE, puis déposez-la sans l'ouvrir."
    )


def spreadsheet_message() -> str:
    return gettext(
        "Ce fichier est un classeur de tableur (Excel ou LibreOffice) : ouvrez-le et enregistrez-le au "
        "format CSV (séparateur point-virgule), puis déposez le fichier .csv."
    )


def unknown_message() -> str:
    return gettext(
        "Fichier non reconnu : ce n'est ni un export SIECLE (.zip ou .xml), ni une extraction ONDE, ni un "
        "fichier CSV d'élèves ou de responsables (voir le format attendu)."
    )


def wrong_slot_message(found: Recognised) -> str:
    return gettext("Ce fichier est %(file)s : déposez-le dans « %(slot)s ».") % {
        "file": found.name if found.source == "siecle" else kind_label(found.kind),
        "slot": slot_label(found.slot),
    }


def recognise(name: str, handle: IO[bytes], *, slot: str | None = None, expected_uaj: str | None = None) -> Recognised:
    """What this upload is, for the field `slot` ("eleves" or "responsables", None: any); ImportFileError if not fit."""
    handle.seek(0)
    head = handle.read(HEAD)
    handle.seek(0)
    lowered = name.lower()
    if head.startswith(OLE2_MAGIC) or (lowered.endswith(SPREADSHEETS) and head.startswith(ZIP_MAGIC)):
        raise ImportFileError(spreadsheet_message())
    found: Recognised | None
    if head.startswith(ZIP_MAGIC) or lowered.endswith(".zip"):
        found = _in_zip(name, handle, slot)
    else:
        found = _sniff(name, head, member=None)
    if found is None and slot is not None:
        # Not an export we know: read as Trousseau's own file for this field, whose reader names the
        # missing column or the empty file precisely (docs/import-format.md).
        found = Recognised(Kind.OWN_PUPILS if slot == PUPILS else Kind.OWN_GUARDIANS, name, None, "")
    if found is None:
        raise ImportFileError(unknown_message())
    if slot is not None and found.slot != slot:
        raise ImportFileError(wrong_slot_message(found))
    if expected_uaj is not None and found.uaj and found.uaj != expected_uaj.upper():
        msg = gettext(
            "Ce fichier est celui de l'établissement %(uaj)s, et non du vôtre (%(own)s) : rien n'a été importé."
        )
        raise ImportFileError(msg % {"uaj": found.uaj, "own": expected_uaj})
    return found


def _in_zip(name: str, handle: IO[bytes], slot: str | None) -> Recognised:
    try:
        archive = zipfile.ZipFile(handle)
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not any(part.startswith((".", "__MACOSX")) for part in info.filename.split("/"))
        ]
        if any(m.filename.lower().endswith(("[content_types].xml", "mimetype")) for m in archive.infolist()):
            raise ImportFileError(spreadsheet_message())
        found = []
        for info in members:
            if info.file_size > MAX_RATIO * max(info.compress_size, 1) + HEAD:
                raise ImportFileError(gettext("L'archive .zip contient un fichier anormalement compressé : refusée."))
            with archive.open(info) as member:
                head = member.read(HEAD)
            found.append(_sniff(info.filename.rsplit("/", 1)[-1], head, member=info.filename, in_zip=True))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:  # truncated: no central directory, or a bad CRC
        raise ImportFileError(damaged_zip_message()) from exc
    known = [f for f in found if f is not None]
    if not known:
        raise ImportFileError(
            gettext("L'archive .zip de %(name)s ne contient aucun export SIECLE ou ONDE reconnu.") % {"name": name[:80]}
        )
    fitting = [f for f in known if slot is None or f.slot == slot]
    if len(fitting) > 1:
        names = ", ".join(f.name for f in fitting)
        raise ImportFileError(
            gettext("L'archive .zip contient plusieurs fichiers de ce type (%(names)s) : déposez-en un seul.")
            % {"names": names[:200]}
        )
    return fitting[0] if fitting else known[0]


def _sniff(name: str, head: bytes, *, member: str | None, in_zip: bool = False) -> Recognised | None:
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if body.startswith(b"<"):
        return _sniff_xml(name, body, member=member)
    if in_zip and not name.lower().endswith((".csv", ".txt")):
        return None  # a member that is no export (a README, a PDF): skipped
    return _sniff_csv(name, body, member=member)


def _sniff_xml(name: str, body: bytes, *, member: str | None) -> Recognised | None:
    # The first element that is not the prolog, a comment or a doctype (which the reader refuses anyway).
    root = ""
    for match in _ROOT.finditer(body):
        start = match.start()
        if body[start + 1 : start + 2] not in (b"?", b"!"):
            root = match.group(1).decode("ascii")
            break
    uaj_match = _UAJ.search(body)
    uaj = uaj_match.group(1).decode("ascii").upper() if uaj_match else ""
    if root == "BEE_ELEVES":
        return Recognised(
            Kind.SIECLE_PUPILS, name if name.lower().endswith(".xml") else "ElevesSansAdresses.xml", member, uaj
        )
    if root == "BEE_RESPONSABLES":
        return Recognised(Kind.SIECLE_GUARDIANS, "ResponsablesAvecAdresses.xml", member, uaj)
    if root.startswith(("BEE_", "STS_")):
        msg = gettext(
            "Ce fichier est un autre export de SIECLE ou STS (élément racine <%(root)s>) : déposez "
            "ElevesSansAdresses.xml dans « %(pupils)s » et ResponsablesAvecAdresses.xml dans « %(guardians)s »."
        )
        raise ImportFileError(
            msg % {"root": root[:40], "pupils": slot_label(PUPILS), "guardians": slot_label(GUARDIANS)}
        )
    if re.search(rb"<ELEVE[\s>]", body):
        return Recognised(Kind.OWN_PUPILS, name, member, "")
    if re.search(rb"<RESPONSABLE[\s>]", body):
        return Recognised(Kind.OWN_GUARDIANS, name, member, "")
    return None


def _header(body: bytes) -> set[str]:
    line = body.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("cp1252", errors="replace")
    delimiter = max(";,\t", key=text.count)
    return {fold(cell.strip().strip('"')) for cell in text.split(delimiter)}


def _names(columns: list[Column], name: str) -> set[str]:
    return {fold(n) for c in columns if c.name == name for n in (c.name, *c.aliases)}


_GUARDIAN_ONLY = {
    fold(n)
    for c in GUARDIAN_COLUMNS
    if c.name not in {"NOM", "PRENOM"}
    for n in (c.name, *c.aliases)
    if fold(n) != "ine"
}


def _sniff_csv(name: str, body: bytes, *, member: str | None) -> Recognised | None:
    header = _header(body)
    if {"nomresponsable", "prenomresponsable"} <= header and any(
        h.startswith(("prenomenfant", "prenomeleve")) for h in header
    ):
        return Recognised(Kind.ONDE_GUARDIANS, name, member, "")
    if "ine" in header and ({"libelleclasse", "identifiantclasse"} & header or "nomdusageeleve" in header):
        return Recognised(Kind.ONDE_PUPILS, name, member, "")
    # Trousseau's own files: a pupils file has a birth date, a guardians file a guardian's own column; a
    # header with neither (or both) is read as the field it was put in, whose reader names what is missing.
    pupils = bool(_names(PUPIL_COLUMNS, "DATE_NAISS") & header)
    guardians = bool(_GUARDIAN_ONLY & header)
    if pupils and not guardians:
        return Recognised(Kind.OWN_PUPILS, name, member, "")
    if guardians and not pupils:
        return Recognised(Kind.OWN_GUARDIANS, name, member, "")
    return None


def check_pair(pupils: Recognised | None, guardians: Recognised | None) -> None:
    """Two files of one import must come from the same system and, for SIECLE, the same school."""
    if pupils is None or guardians is None:
        return
    if pupils.source != guardians.source:
        msg = gettext(
            "Les deux fichiers ne viennent pas du même logiciel (%(pupils)s et %(guardians)s) : déposez les "
            "élèves et les responsables d'un même export."
        )
        raise ImportFileError(msg % {"pupils": kind_label(pupils.kind), "guardians": kind_label(guardians.kind)})
    if pupils.uaj and guardians.uaj and pupils.uaj != guardians.uaj:
        msg = gettext(
            "Les deux fichiers sont de deux établissements différents (élèves : %(pupils)s, responsables : "
            "%(guardians)s)."
        )
        raise ImportFileError(msg % {"pupils": pupils.uaj, "guardians": guardians.uaj})
