"""Reads for the account pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from django.db import connection

from trousseau.accounts.models import Account, AccountGuardian, AccountKind, ContestedLink
from trousseau.core.planned import planned_cursor
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
# `{account_id}`, `{legal}` and `{pupil_id}` are parameters, or another query's columns (`lateral`).
_GUARDIAN_SQL = """
SELECT 'p', {columns} FROM {pupil} p JOIN {school} s ON s.id = p.school_id LEFT JOIN {account} a ON a.pupil_id = p.id
WHERE EXISTS (
  SELECT 1 FROM {guardianship} g JOIN {link} l ON l.guardian_id = g.guardian_id
  WHERE g.pupil_id = p.id AND l.account_id = {account_id} AND g.is_legal_representative = {legal}
  AND NOT EXISTS (SELECT 1 FROM {contest} c WHERE c.guardianship_id = g.id AND c.resolved_at IS NULL))
UNION ALL
SELECT 'v', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, COALESCE(s.academie, ''), gd.source_id
FROM {guardian} gd JOIN {link} l ON l.guardian_id = gd.id LEFT JOIN {school} s ON s.id = gd.school_id
WHERE l.account_id = {account_id} AND gd.left_at IS NULL
"""
_PUPIL_SQL = """
SELECT 'p', {columns} FROM {pupil} p JOIN {school} s ON s.id = p.school_id LEFT JOIN {account} a ON a.pupil_id = p.id
WHERE p.id = {pupil_id}
"""
RECORD_COLUMNS = 12  # of each row of either statement


def _quoted_tables() -> dict[str, str]:
    return {name: connection.ops.quote_name(table) for name, table in _tables().items()}


@cache
def _statements() -> tuple[str, str]:
    tables = _quoted_tables()
    return (
        _GUARDIAN_SQL.format(columns=_PUPIL_COLUMNS, account_id="%s", legal="%s", **tables),
        _PUPIL_SQL.format(columns=_PUPIL_COLUMNS, pupil_id="%s", **tables),
    )


@cache
def claims_records_lateral(alias: str) -> str:
    """`claims_records`' rows for the account whose columns an enclosing query names `alias`.id,
    `.kind` and `.pupil_id`: for a `LEFT JOIN LATERAL` that reads them with the account, in the same
    statement (the token endpoint, federation/oidc/claim_sql.py). Two parameters: AccountKind.PUPIL twice."""
    tables = _quoted_tables()
    guardian = _GUARDIAN_SQL.format(columns=_PUPIL_COLUMNS, account_id=f"{alias}.id", legal="TRUE", **tables)
    pupil = _PUPIL_SQL.format(columns=_PUPIL_COLUMNS, pupil_id=f"{alias}.pupil_id", **tables)
    return (
        f"SELECT * FROM ({guardian}) q WHERE {alias}.kind <> %s "  # noqa: S608 - our names, parameters bound
        f"UNION ALL SELECT * FROM ({pupil}) q WHERE {alias}.kind = %s"
    )


def _date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value  # SQLite's cursor gives text


def claims_records(account: Account) -> ClaimsRecords:
    """What the claims read of the directory, in one statement written once (the ORM would compile
    three on every single sign-on): the account's pupils and its own records' join data."""
    guardian_sql, pupil_sql = _statements()
    with planned_cursor(connection.alias) as cursor:
        if account.kind == AccountKind.PUPIL:
            cursor.execute(pupil_sql, [account.pupil_id or 0])
        else:
            cursor.execute(guardian_sql, [account.pk, True, account.pk])
        rows = cursor.fetchall()
    return records_of(account, rows)


def records_of(account: Account, rows: list[tuple[Any, ...]]) -> ClaimsRecords:
    """ClaimsRecords from the rows of `claims_records`' statement, or of `claims_records_lateral`'s."""
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
