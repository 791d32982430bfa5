"""PostgreSQL COPY: staging tables for the checked rows, and accounts written straight into their table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction

from trousseau.accounts.models import Account, AccountKind, AccountState
from trousseau.provisioning import fk_checks
from trousseau.provisioning.accounts_bulk import unusable_password
from trousseau.provisioning.sql import execute


def temp_table(name: str, columns: str) -> None:
    """A staging table for this transaction (dropped first: a test's transaction may hold an older one)."""
    execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
    execute(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")


def temp_table_as(name: str, query: str, params: Sequence[Any] | None = None) -> int:
    execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
    return execute(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {query}", params)


def update_then_insert(
    update: str, insert: str, upsert: str, params: Sequence[Any] | None = None, *, table: str | None = None
) -> None:
    """The changed rows updated, then the new ones inserted in key order, as two plain statements.

    They cost PostgreSQL about a third less than one `INSERT … ON CONFLICT DO UPDATE` (whose speculative
    insertion probes, inserts and confirms each row in every unique index). Imports hold the advisory
    lock, so no other writer should insert the same keys in between; if one did, the savepoint is undone
    and `upsert`, the ON CONFLICT statement of the same meaning, runs instead. `table`: the table `insert`
    writes, whose new rows' foreign keys are then checked set-based when the import may (fk_checks.py).
    """
    try:
        with transaction.atomic():
            execute(update, params)
            if table is None:
                execute(insert, params)
            else:
                fk_checks.insert(table, insert, params)
    except IntegrityError:
        execute(upsert, params)


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY rows (Python values, adapted by psycopg) into a table; returns how many."""
    count = 0
    with connection.cursor() as wrapper:
        raw = wrapper.cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    execute(f"ANALYZE {table}")
    return count


def copy_accounts(
    pupils: Sequence[tuple[int, str, str]],
    pupil_identifiers: Sequence[str],
    guardians: Sequence[tuple[int, str, str]],
    guardian_identifiers: Sequence[str],
    *,
    now: datetime,
) -> None:
    """Provisional accounts COPYed into accounts_account; guardian accounts then linked set-based.

    Every concrete column is written: those the import does not set take the field's default, so a
    field added to Account later needs no change here (only a default).
    """
    fields = [f for f in Account._meta.concrete_fields if not f.primary_key]  # noqa: SLF001
    defaults = {f.attname: f.get_default() for f in fields}
    defaults.update(state=AccountState.PROVISIONAL, created_at=now)
    columns = [f.column for f in fields]

    def rows(kind: str, people: Sequence[tuple[int, str, str]], identifiers: Sequence[str]) -> Iterable[list[Any]]:
        for (row_id, first, last), identifier in zip(people, identifiers, strict=True):
            values = {
                **defaults,
                "identifier": identifier,
                "kind": kind,
                "first_name": first,
                "last_name": last,
                "pupil_id": row_id if kind == AccountKind.PUPIL else None,
                "password": unusable_password(),
            }
            yield [values[f.attname] for f in fields]

    table = Account._meta.db_table  # noqa: SLF001
    copy_rows(table, columns, rows(AccountKind.PUPIL, pupils, pupil_identifiers))
    copy_rows(table, columns, rows(AccountKind.GUARDIAN, guardians, guardian_identifiers))
    temp_table("stage_account_guardian", "identifier varchar(64) PRIMARY KEY, guardian_id bigint")
    copy_rows(
        "stage_account_guardian",
        ["identifier", "guardian_id"],
        ((identifier, g[0]) for g, identifier in zip(guardians, guardian_identifiers, strict=True)),
    )
    execute(
        "INSERT INTO accounts_accountguardian (account_id, guardian_id) "
        "SELECT a.id, s.guardian_id FROM stage_account_guardian s JOIN accounts_account a USING (identifier)"
    )
