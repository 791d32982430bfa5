"""Reads for the account pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from django.db import connection

from trousseau.accounts.models import Account, AccountGuardian, AccountKind, ContestedLink
from trousseau.directory.models import Guardian, Guardianship, Pupil, School


def account_overview(account: Account) -> dict[str, Any]:
    """Who I am, and my children (guardian) or my school (pupil), in one query per list."""
    pupils = list(account.pupils().select_related("school").order_by("last_name", "first_name"))
    return {
        "account": account,
        "is_guardian": account.kind == AccountKind.GUARDIAN,
        "children": pupils if account.kind == AccountKind.GUARDIAN else [],
        "school": pupils[0].school if account.kind == AccountKind.PUPIL and pupils else None,
        "class_name": pupils[0].class_name if account.kind == AccountKind.PUPIL and pupils else "",
    }


@dataclass(frozen=True)
class ClaimsPupil:
    """A pupil as the claims read it (`Account.pupils()`'s rows): with its school's UAI and level and
    the pk of the pupil's own account (None for a child without one)."""

    pk: int
    ine: str
    last_name: str
    first_name: str
    birth_date: date
    class_name: str
    school_uai: str
    school_level: str
    child_account_id: int | None


@dataclass(frozen=True)
class ClaimsRecords:
    pupils: list[ClaimsPupil]  # oldest first
    # (académie, source_id) of the account's own directory rows still listed by their school and with
    # a source_id: a pupil's own record, a guardian's Guardian rows (never a child's).
    own_records: list[tuple[str, str]]


def _tables() -> dict[str, str]:
    models = {
        "pupil": Pupil,
        "school": School,
        "account": Account,
        "guardianship": Guardianship,
        "link": AccountGuardian,
        "contest": ContestedLink,
        "guardian": Guardian,
    }
    return {name: model._meta.db_table for name, model in models.items()}  # noqa: SLF001 - Django's public API


_PUPIL_COLUMNS = (
    "p.id, p.ine, p.last_name, p.first_name, p.birth_date, p.class_name, s.uai, s.level, a.id, "
    "CASE WHEN p.left_at IS NULL THEN s.academie END, p.source_id"
)
# The same rows as `Account.pupils()` (a guardian's legal-representative links, contested ones left
# out), with EXISTS rather than IN and DISTINCT; for a guardian, its own Guardian rows after them.
_GUARDIAN_SQL = """
SELECT 'p', {columns} FROM {pupil} p JOIN {school} s ON s.id = p.school_id LEFT JOIN {account} a ON a.pupil_id = p.id
WHERE EXISTS (
  SELECT 1 FROM {guardianship} g JOIN {link} l ON l.guardian_id = g.guardian_id
  WHERE g.pupil_id = p.id AND l.account_id = %s AND g.is_legal_representative = %s
  AND NOT EXISTS (SELECT 1 FROM {contest} c WHERE c.guardianship_id = g.id AND c.resolved_at IS NULL))
UNION ALL
SELECT 'v', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, COALESCE(s.academie, ''), gd.source_id
FROM {guardian} gd JOIN {link} l ON l.guardian_id = gd.id LEFT JOIN {school} s ON s.id = gd.school_id
WHERE l.account_id = %s AND gd.left_at IS NULL
"""
_PUPIL_SQL = """
SELECT 'p', {columns} FROM {pupil} p JOIN {school} s ON s.id = p.school_id LEFT JOIN {account} a ON a.pupil_id = p.id
WHERE p.id = %s
"""


@cache
def _statements() -> tuple[str, str]:
    tables = {name: connection.ops.quote_name(table) for name, table in _tables().items()}
    return (
        _GUARDIAN_SQL.format(columns=_PUPIL_COLUMNS, **tables),
        _PUPIL_SQL.format(columns=_PUPIL_COLUMNS, **tables),
    )


def _date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value  # SQLite's cursor gives text


def claims_records(account: Account) -> ClaimsRecords:
    """What the claims read of the directory, in one statement written once (the ORM would compile
    three on every single sign-on): the account's pupils and its own records' join data."""
    guardian_sql, pupil_sql = _statements()
    with connection.cursor() as cursor:
        if account.kind == AccountKind.PUPIL:
            cursor.execute(pupil_sql, [account.pupil_id or 0])
        else:
            cursor.execute(guardian_sql, [account.pk, True, account.pk])
        rows = cursor.fetchall()
    pupils = [
        ClaimsPupil(row[1], row[2], row[3], row[4], _date(row[5]), row[6], row[7], row[8], row[9])
        for row in rows
        if row[0] == "p"
    ]
    pupils.sort(key=lambda p: (p.birth_date, p.pk))
    if account.kind == AccountKind.PUPIL:
        # A pupil's own record: its vector only while its school still lists it (academie NULL otherwise).
        own = [(row[10], row[11]) for row in rows if row[10] is not None]
    else:
        own = [(row[10], row[11]) for row in rows if row[0] == "v"]
    return ClaimsRecords(pupils, [(academie, source) for academie, source in own if source])
