"""The files of one import as streams of records: Trousseau's own CSV/XML, SIECLE's XML, ONDE's CSV.

Whatever the school downloaded, the row checks of rows.py read the same `Record`s (columns named as
docs/import-format.md names them), so every rule holds for every format. `open_streams` recognises
each file (exports.py: which export, which field, which school) and returns one stream per field; a
field may hold several files (the command line imports an académie: one SIECLE pair per school).

The SIECLE readers add SIECLE's own identifiers to their records under `SOURCE_ID` (rows.py), which
no CSV column can fill. A SIECLE guardians file names pupils by ELEVE_ID: the pupils file of the same
import says which INE that is (pupils are read first), or, without one, the directory's stored
ELEVE_IDs of that school.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Protocol

from django.utils.translation import gettext

from trousseau.directory.importers.exports import Kind, Recognised, check_pair, recognise
from trousseau.directory.importers.onde import (
    OndeGuardian,
    OndeMatcher,
    OndePupil,
    read_onde_guardians,
    read_onde_pupils,
)
from trousseau.directory.importers.reading import Record, Source, read_records
from trousseau.directory.importers.records import guardian_records, link_record, pupil_record, pupil_record_onde
from trousseau.directory.importers.report import ImportFileError, RowError
from trousseau.directory.importers.rows import (
    GUARDIAN_COLUMNS,
    GUARDIANS,
    PUPIL_COLUMNS,
    PUPILS,
)
from trousseau.directory.importers.siecle import (
    SiecleGuardians,
    SieclePupils,
    SpooledIds,
)
from trousseau.directory.models import Pupil

ErrorSink = Callable[[RowError], None]


class Stream(Protocol):
    """One field's files, read as records; progress and the encoding report read the other attributes."""

    @property
    def encoding(self) -> str: ...
    @property
    def bytes_read(self) -> int: ...
    @property
    def size(self) -> int | None: ...
    def records(self, errors: ErrorSink) -> Iterator[Record]: ...


class Directory:
    """What a guardians file that comes without its pupils file is read against: the school's stored pupils."""

    def eleve_ids(self, uaj: str) -> dict[str, str]:
        """ELEVE_ID -> INE of the school's pupils, "" for those who left (their links are dropped)."""
        rows = Pupil.objects.filter(school__uai=uaj).exclude(source_id="").values_list("source_id", "ine", "left_at")
        return {source_id: "" if left_at else ine for source_id, ine, left_at in rows.iterator(chunk_size=5000)}

    def pupils(self, uai: str) -> list[OndePupil]:
        """The école's present pupils, for finding an ONDE guardian's children by their names."""
        rows = Pupil.objects.filter(school__uai=uai, left_at=None).values_list(
            "ine", "last_name", "first_name", "birth_date", "class_name"
        )
        return [
            OndePupil(0, ine, last, last, first, born, "", class_name, "", "")
            for ine, last, first, born, class_name in rows
        ]


@dataclass
class Shared:
    """What the pupils streams learn for the guardians streams of the same import."""

    school_uai: str  # the staff member's school ("" on the command line)
    directory: Directory = field(default_factory=Directory)
    eleve_ids: dict[str, SpooledIds] = field(default_factory=dict)  # UAJ -> ELEVE_ID -> INE ("" if left), on disk
    onde_pupils: list[OndePupil] | None = None
    # Schools whose pupils file is in this import, and whether an ONDE pupils file is: the guardians
    # files read the directory only for the others, when they are opened. (Never while rows stream: on
    # PostgreSQL the connection is then busy with COPY, and a query would wait for it for ever.)
    pupils_of: set[str] = field(default_factory=set)
    onde_pupils_file: bool = False


class _OneFile:
    encoding = "utf-8"
    bytes_read = 0
    size: int | None = None

    def records(self, errors: ErrorSink) -> Iterator[Record]:  # pragma: no cover (abstract)
        raise NotImplementedError


class _CsvFile(_OneFile):
    """A file read line by line through a Source (reading.py): its encoding and progress are the Source's."""

    source: Source

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.source.encoding

    @property
    def bytes_read(self) -> int:  # type: ignore[override]
        return self.source.bytes_read


class _SiecleFile(_OneFile):
    """A SIECLE export: its encoding and progress are its reader's."""

    reader: SieclePupils | SiecleGuardians

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.reader.encoding

    @property
    def bytes_read(self) -> int:  # type: ignore[override]
        return self.reader.file.bytes_read


class OwnFile(_CsvFile):
    """Trousseau's own CSV or XML (docs/import-format.md)."""

    def __init__(self, source: Source, slot: str) -> None:
        self.source = source
        self.slot = slot
        self.size = source.size

    def records(self, errors: ErrorSink) -> Iterator[Record]:
        columns, tag = (PUPIL_COLUMNS, "ELEVE") if self.slot == PUPILS else (GUARDIAN_COLUMNS, "RESPONSABLE")
        return read_records(self.source, columns, record_tag=tag)


class SieclePupilsFile(_SiecleFile):
    """ElevesSansAdresses.xml: pupils who left (DATE_SORTIE) are no rows: a complete list lets them go."""

    reader: SieclePupils

    def __init__(self, handle: IO[bytes], shared: Shared, *, max_bytes: int | None, size: int | None) -> None:
        self.reader = SieclePupils(handle, expected_uaj=shared.school_uai or None, max_bytes=max_bytes)
        self.shared = shared
        self.size = size
        shared.pupils_of.add(self.reader.uaj)

    def records(self, errors: ErrorSink) -> Iterator[Record]:
        ids = self.shared.eleve_ids.setdefault(self.reader.uaj, SpooledIds())
        if self.reader not in ids.readers:
            ids.readers.append(self.reader)
        return (pupil_record(pupil) for pupil in self.reader if not pupil.left)


class SiecleGuardiansFile(_SiecleFile):
    reader: SiecleGuardians

    def __init__(self, handle: IO[bytes], shared: Shared, *, max_bytes: int | None, size: int | None) -> None:
        self.reader = SiecleGuardians(handle, expected_uaj=shared.school_uai or None, max_bytes=max_bytes)
        self.shared = shared
        self.size = size
        self.stored: dict[str, str] | None = None
        if self.reader.uaj not in shared.pupils_of:
            self.stored = shared.directory.eleve_ids(self.reader.uaj)

    def records(self, errors: ErrorSink) -> Iterator[Record]:
        uaj = self.reader.uaj
        if self.stored is not None:
            # No pupils file of this school in the import: its stored pupils, read when the file was opened.
            # A pupil the directory never had left before any import (SIECLE keeps their links all year).
            return guardian_records(self.reader, self.stored, errors, unknown_left=True)
        spooled = self.shared.eleve_ids.get(uaj)
        ine_of = spooled.load() if spooled is not None else {}  # this school's alone, while its file is read
        return guardian_records(self.reader, ine_of, errors)


class OndePupilsFile(_CsvFile):
    def __init__(self, source: Source, shared: Shared) -> None:
        self.source = source
        self.shared = shared
        self.size = source.size
        shared.onde_pupils_file = True

    def records(self, errors: ErrorSink) -> Iterator[Record]:
        kept = self.shared.onde_pupils = []
        for pupil in read_onde_pupils(self.source):
            kept.append(pupil)  # an école's pupils: a few hundred, for finding the guardians' children
            yield pupil_record_onde(pupil, self.shared.school_uai)


class OndeGuardiansFile(_CsvFile):
    def __init__(self, source: Source, shared: Shared) -> None:
        self.source = source
        self.shared = shared
        self.size = source.size
        self.stored = None if shared.onde_pupils_file else shared.directory.pupils(shared.school_uai)

    def records(self, errors: ErrorSink) -> Iterator[Record]:
        pupils = self.stored if self.stored is not None else self.shared.onde_pupils
        matcher = OndeMatcher(pupils or [])
        guardians = list(read_onde_guardians(self.source))  # one école's guardians, read whole to find namesakes
        homonyms = _namesakes(guardians)
        for guardian in guardians:
            named = (guardian.last_name.casefold(), guardian.first_name.casefold())
            links = matcher.links(guardian, _collect(errors))
            for link in links:
                key = f"onde:{min(lk.ine for lk in links)}" if named in homonyms else ""
                yield link_record(link, key)


class Chain(_OneFile):
    """Several files in one field (the command line's académie): read one after the other."""

    def __init__(self, streams: Sequence[_OneFile]) -> None:
        self.streams = list(streams)
        known = [s.size for s in self.streams]
        self.size = None if any(s is None for s in known) else sum(s for s in known if s is not None)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return ", ".join(dict.fromkeys(s.encoding for s in self.streams))

    @property
    def bytes_read(self) -> int:  # type: ignore[override]
        return sum(s.bytes_read for s in self.streams)

    def records(self, errors: ErrorSink) -> Iterator[Record]:
        for stream in self.streams:
            yield from stream.records(errors)


@dataclass(frozen=True)
class Found:
    """Each field's files, recognised (which export, which school) but not yet opened."""

    pupils: list[tuple[Recognised, IO[bytes]]]
    guardians: list[tuple[Recognised, IO[bytes]]]

    def __bool__(self) -> bool:
        return bool(self.pupils or self.guardians)


def recognise_files(pupils: Sequence[IO[bytes]], guardians: Sequence[IO[bytes]], *, school_uai: str) -> Found:
    """Which export each file is, from its head; ImportFileError names the first file that does not fit."""
    pupils, guardians = [_seekable(f) for f in pupils], [_seekable(f) for f in guardians]
    expected = school_uai or None
    found = Found(
        [(recognise(_name(f), f, slot=PUPILS, expected_uaj=expected), f) for f in pupils],
        [(recognise(_name(f), f, slot=GUARDIANS, expected_uaj=expected), f) for f in guardians],
    )
    _check_pairs([r for r, _ in found.pupils], [r for r, _ in found.guardians], school_uai=school_uai)
    return found


def open_found(
    found: Found, *, school_uai: str, max_bytes: int | None, directory: Directory | None = None
) -> tuple[Chain | None, Chain | None]:
    """One stream per field of the recognised files (a damaged zip member is refused here)."""
    shared = Shared(school_uai, directory or Directory())
    pupils = Chain([_open(r, f, shared, max_bytes) for r, f in found.pupils]) if found.pupils else None
    guardians = Chain([_open(r, f, shared, max_bytes) for r, f in found.guardians]) if found.guardians else None
    return pupils, guardians


def open_streams(
    pupils: Sequence[IO[bytes]],
    guardians: Sequence[IO[bytes]],
    *,
    school_uai: str,
    max_bytes: int | None,
    directory: Directory | None = None,
) -> tuple[Chain | None, Chain | None]:
    """Each field's files recognised and opened; ImportFileError names the first file that does not fit."""
    found = recognise_files(pupils, guardians, school_uai=school_uai)
    return open_found(found, school_uai=school_uai, max_bytes=max_bytes, directory=directory)


def _seekable(handle: IO[bytes]) -> IO[bytes]:
    """A pipe copied to a temporary file: recognising a file and surveying its encoding read it more than once."""
    if handle.seekable():
        return handle
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the import reads it)
    shutil.copyfileobj(handle, spool)
    spool.seek(0)
    return spool


def _name(handle: IO[bytes]) -> str:
    return str(getattr(handle, "name", "") or "")


def _check_pairs(pupils: list[Recognised], guardians: list[Recognised], *, school_uai: str) -> None:
    if len(pupils) == 1 and len(guardians) == 1:
        check_pair(pupils[0], guardians[0])  # names both files, and two schools' SIECLE files
    elif len({r.source for r in (*pupils, *guardians)}) > 1:
        raise ImportFileError(
            gettext(
                "Les fichiers ne viennent pas tous du même logiciel : déposez les élèves et les responsables "
                "d'un même export."
            )
        )
    if not school_uai and any(r.source == "onde" for r in (*pupils, *guardians)):
        raise ImportFileError(
            gettext("Une extraction ONDE ne dit pas de quelle école elle vient : importez-la pour une école donnée.")
        )


def _size(handle: IO[bytes]) -> int | None:
    size = getattr(handle, "size", None)
    return size if isinstance(size, int) else None


def _open(found: Recognised, handle: IO[bytes], shared: Shared, max_bytes: int | None) -> _OneFile:
    size = _size(handle)
    if max_bytes is not None and size is not None and found.member is not None and size > max_bytes:
        Source(handle, max_bytes=max_bytes, size=size)  # raises ImportTooLarge, as for any file
    body = found.open(handle)
    if found.kind == Kind.SIECLE_PUPILS:
        return SieclePupilsFile(body, shared, max_bytes=max_bytes, size=size)
    if found.kind == Kind.SIECLE_GUARDIANS:
        return SiecleGuardiansFile(body, shared, max_bytes=max_bytes, size=size)
    source = Source(body, max_bytes=max_bytes, size=size)
    if found.kind == Kind.ONDE_PUPILS:
        return OndePupilsFile(source, shared)
    if found.kind == Kind.ONDE_GUARDIANS:
        return OndeGuardiansFile(source, shared)
    return OwnFile(source, found.slot)


def _namesakes(guardians: Iterable[OndeGuardian]) -> set[tuple[str, str]]:
    """Names two guardian rows of one ONDE file share with different contact details: two people."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    twice: set[tuple[str, str]] = set()
    for g in guardians:
        named = (g.last_name.casefold(), g.first_name.casefold())
        contact = (g.mobile, g.email.casefold())
        if seen.setdefault(named, contact) != contact:
            twice.add(named)
    return twice


def _collect(errors: ErrorSink) -> list[RowError]:
    """OndeMatcher reports into a list: hand each error on as it is added."""

    class _Sink(list[RowError]):
        def append(self, error: RowError) -> None:
            errors(error)

    return _Sink()
