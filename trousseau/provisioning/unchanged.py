"""Schools whose files and records are as their last import left them: left out of a nightly import.

A nightly sync brings every school's SIECLE files again, most of them unchanged since the night before.
Importing files the directory already matches changes nothing (an import is idempotent), yet it still
parses and checks every row. So each command-line import that applied cleanly keeps, per school
(`directory.LastImport`):
- `files`: a digest of that school's files, of the import's own code and of the mode;
- `records`: a fingerprint of what the import reads of that school, as the import left it: its pupils,
  guardians and links (whole rows), and their accounts (existence, disabled or not, names, merges:
  an activation does not count, a staff member's disable or a console correction does).
The next import leaves a school's files out, as if they had not been given, when both still match.
Leaving a school out is always a valid import (the command line takes any subset of schools: an
absent school is out of scope, nobody leaves it); when both match it is also exactly what reading
them would have done.

PostgreSQL only: the server computes the fingerprints itself, one pass over each table (`bit_xor` of
`hashtextextended`, with row counts). The console's imports (one school, previewed) read every time.
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

from django.db import connection

from trousseau.accounts.models import AccountState
from trousseau.directory.importers.exports import Recognised
from trousseau.directory.importers.sources import Found
from trousseau.directory.models import LastImport, School

CHUNK = 1 << 20
# The import's code: a file read differently after an upgrade is read again.
CODE = [Path(__file__).parent, Path(__file__).parent.parent / "directory" / "importers"]

# What the import reads of a school, fingerprinted by the server. Directory rows are hashed whole;
# accounts by the fields an import compares or changes (not `activated_at` or logins, which change
# every day and which an unchanged file never makes an import act on).
FINGERPRINT = """
WITH wanted(id) AS (SELECT unnest(%(schools)s::bigint[])),
pupils AS (
    SELECT school_id AS id, count(*) AS n, bit_xor(hashtextextended(p::text, 0)) AS h
    FROM directory_pupil p WHERE school_id IN (SELECT id FROM wanted) GROUP BY 1),
guardians AS (
    SELECT school_id AS id, count(*) AS n, bit_xor(hashtextextended(g::text, 0)) AS h
    FROM directory_guardian g WHERE school_id IN (SELECT id FROM wanted) GROUP BY 1),
links AS (
    SELECT p.school_id AS id, count(*) AS n, bit_xor(hashtextextended(l::text, 0)) AS h
    FROM directory_guardianship l JOIN directory_pupil p ON p.id = l.pupil_id
    WHERE p.school_id IN (SELECT id FROM wanted) GROUP BY 1),
pupil_accounts AS (
    SELECT p.school_id AS id, count(*) AS n, bit_xor(hashtextextended(concat_ws('|',
        a.id, a.pupil_id, a.kind, a.state = %(disabled)s, a.first_name, a.last_name, a.merged_into_id), 0)) AS h
    FROM accounts_account a JOIN directory_pupil p ON p.id = a.pupil_id
    WHERE p.school_id IN (SELECT id FROM wanted) GROUP BY 1),
guardian_accounts AS (
    SELECT g.school_id AS id, count(*) AS n, bit_xor(hashtextextended(concat_ws('|',
        a.id, ag.guardian_id, a.kind, a.state = %(disabled)s, a.first_name, a.last_name, a.merged_into_id), 0)) AS h
    FROM accounts_accountguardian ag
    JOIN directory_guardian g ON g.id = ag.guardian_id JOIN accounts_account a ON a.id = ag.account_id
    WHERE g.school_id IN (SELECT id FROM wanted) GROUP BY 1)
SELECT w.id, concat_ws(';', s.uai, s.level, s.academie, p.n, p.h, g.n, g.h, l.n, l.h, pa.n, pa.h, ga.n, ga.h)
FROM wanted w JOIN directory_school s ON s.id = w.id
LEFT JOIN pupils p ON p.id = w.id LEFT JOIN guardians g ON g.id = w.id LEFT JOIN links l ON l.id = w.id
LEFT JOIN pupil_accounts pa ON pa.id = w.id LEFT JOIN guardian_accounts ga ON ga.id = w.id
"""


@dataclass(frozen=True)
class Sorted:
    """The files an import reads, the schools it left out, and the digest of each school it reads."""

    found: Found
    left_out: list[str]  # UAJ
    digests: dict[str, str]  # UAJ -> digest of its files in this import


def applies() -> bool:
    return connection.vendor == "postgresql"


def leave_out_unchanged(found: Found, *, mode: str) -> Sorted:
    """`found` without the schools whose files are those of their last import and whose records still match."""
    digests = files_digests(found, mode=mode)
    if not digests:
        return Sorted(found, [], {})
    schools = dict(School.objects.filter(uai__in=list(digests)).values_list("uai", "pk"))
    last = {
        uai: (files, records)
        for uai, files, records in LastImport.objects.filter(school_id__in=list(schools.values())).values_list(
            "school__uai", "files", "records"
        )
    }
    candidates = {uai: schools[uai] for uai, (files, _) in last.items() if digests.get(uai) == files}
    now = fingerprints(candidates.values()) if candidates else {}
    unchanged = {uai for uai, pk in candidates.items() if now.get(pk) == last[uai][1]}
    if not unchanged:
        return Sorted(found, [], digests)
    kept = Found(
        [(r, f) for r, f in found.pupils if r.uaj not in unchanged],
        [(r, f) for r, f in found.guardians if r.uaj not in unchanged],
    )
    return Sorted(kept, sorted(unchanged), {u: d for u, d in digests.items() if u not in unchanged})


def remember(digests: dict[str, str], *, now: datetime) -> None:
    """After a clean import: what it read of each school, and the school's records as it left them."""
    if not digests:
        return
    schools = dict(School.objects.filter(uai__in=list(digests)).values_list("pk", "uai"))
    records = fingerprints(schools)
    LastImport.objects.bulk_create(
        [
            LastImport(school_id=pk, files=digests[uai], records=records[pk], imported_at=now)
            for pk, uai in schools.items()
        ],
        update_conflicts=True,
        unique_fields=["school"],
        update_fields=["files", "records", "imported_at"],
    )


def forget(uajs: Iterable[str]) -> None:
    """A school imported otherwise (or not cleanly): its next import reads its files."""
    LastImport.objects.filter(school__uai__in=list(uajs)).delete()


def fingerprints(schools: Iterable[int]) -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(FINGERPRINT, {"schools": list(schools), "disabled": AccountState.DISABLED.value})
        return dict(cursor.fetchall())


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
