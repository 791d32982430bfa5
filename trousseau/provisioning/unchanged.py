"""Schools whose files are those of their last import, with records unchanged since: left out of a nightly import.

A nightly sync brings every school's SIECLE files again, most of them unchanged since the night before.
Importing files the directory already matches changes nothing (an import is idempotent), yet it still
parses and checks every row. So each command-line import that applied cleanly keeps, per school it
read, a digest of that school's files, of the import's own code and of the mode (`directory.LastImport`).
PostgreSQL triggers delete that row, in the same transaction, as soon as anything an import reads of
the school changes: its pupils, guardians and links, their accounts (deleted, disabled or enabled,
renamed, merged; an activation or a login does not count), the school's level (directory migration
0007). The next import leaves a school's files out, as if they had not been given, when the row is
still there with the same digest. Leaving a school out is always a valid import (the command line takes
any subset of schools: an absent school is out of scope, nobody leaves it); with the row there it is
also exactly what reading the files would have done.

The triggers cost each write one set-based statement, not a pass over the directory: an earlier version
fingerprinted every school's rows at each import, and that pass alone took 18 s at 300,000 pupils.
PostgreSQL only; the console's imports (one school, previewed) read their files every time.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import IO

from trousseau.directory.importers.exports import Recognised
from trousseau.directory.importers.sources import Found
from trousseau.directory.models import LastImport, School

CHUNK = 1 << 20
# The import's code: a file read differently after an upgrade is read again.
CODE = [Path(__file__).parent, Path(__file__).parent.parent / "directory" / "importers"]


@dataclass(frozen=True)
class Sorted:
    """The files an import reads, the schools it left out, and the digest of each school it reads."""

    found: Found
    left_out: list[str]  # UAJ
    digests: dict[str, str]  # UAJ -> digest of its files in this import


def leave_out_unchanged(found: Found, *, mode: str) -> Sorted:
    """`found` without the schools whose files are those of their last import, their records unchanged since."""
    digests = files_digests(found, mode=mode)
    if not digests:
        return Sorted(found, [], {})
    remembered = LastImport.objects.filter(school__uai__in=list(digests)).values_list("school__uai", "files")
    unchanged = {uai for uai, files in remembered if digests[uai] == files}
    if not unchanged:
        return Sorted(found, [], digests)
    kept = Found(
        [(r, f) for r, f in found.pupils if r.uaj not in unchanged],
        [(r, f) for r, f in found.guardians if r.uaj not in unchanged],
    )
    return Sorted(kept, sorted(unchanged), {u: d for u, d in digests.items() if u not in unchanged})


def remember(digests: dict[str, str], *, now: datetime) -> None:
    """After a clean import, once its last write is done: the files it read of each school."""
    if not digests:
        return
    schools = School.objects.filter(uai__in=list(digests)).values_list("pk", "uai")
    LastImport.objects.bulk_create(
        [LastImport(school_id=pk, files=digests[uai], imported_at=now) for pk, uai in schools],
        update_conflicts=True,
        unique_fields=["school"],
        update_fields=["files", "imported_at"],
    )


def forget(uajs: Iterable[str]) -> None:
    """A school imported with refused rows: its next import reads its files."""
    LastImport.objects.filter(school__uai__in=list(uajs)).delete()


def files_digests(found: Found, *, mode: str) -> dict[str, str]:
    """UAJ -> digest of that school's files in this import; only when every file names its school (SIECLE)."""
    files = [*(("pupils", r, f) for r, f in found.pupils), *(("guardians", r, f) for r, f in found.guardians)]
    if not files or any(not r.uaj for _, r, _ in files):
        # A file that does not say its school (ONDE, Trousseau's own): the import is read whole.
        return {}
    per_school: dict[str, list[str]] = defaultdict(list)
    for slot, recognised, handle in files:
        per_school[recognised.uaj].append(f"{slot}:{_member(recognised)}:{_digest(handle)}")
    return {
        uaj: hashlib.sha256("\n".join([code_digest(), mode, *sorted(parts)]).encode()).hexdigest()
        for uaj, parts in per_school.items()
    }


def _member(recognised: Recognised) -> str:
    return recognised.member or ""


def _digest(handle: IO[bytes]) -> str:
    handle.seek(0)
    digest = hashlib.sha256()
    while block := handle.read(CHUNK):
        digest.update(block)
    handle.seek(0)
    return digest.hexdigest()


@cache
def code_digest() -> str:
    digest = hashlib.sha256()
    for folder in CODE:
        for path in sorted(folder.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
