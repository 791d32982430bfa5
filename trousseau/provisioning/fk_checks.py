"""The foreign keys of an import's new rows, checked set-based instead of row by row at the commit.

Django's foreign keys are `DEFERRABLE INITIALLY DEFERRED`: PostgreSQL queues one trigger per inserted row
and, at the commit, runs one `SELECT … FOR KEY SHARE` per row. A first import of 100,000 pupils queues
about 1.2 million of them (each pupil's school, each guardian's, both ends of each link, each account's
pupil, both ends of each account–guardian row); they were about a third of PostgreSQL's time.

The import's own plain INSERTs of new rows run instead with `session_replication_role = replica` (for that
statement only: it is set back before anything else runs), which skips the per-row triggers of that
session's statements and nobody else's; the constraints stay on the tables for every other writer. Each
such INSERT keeps the ids and keys it wrote (`RETURNING`, in a temporary table), and right after it every
key is checked at once, as the triggers would have:
- a key naming a row this import inserted itself needs nothing: nobody else can see that row, so nobody
  can delete it before the commit (and our own delete would meet the referenced side's triggers, which
  still run);
- every other referenced row (the schools, records of an earlier import) is locked `FOR KEY SHARE` in one
  statement, the lock each trigger would have taken, held to the commit; a row gone meanwhile is missing
  from that statement and the import fails with an IntegrityError, as the commit would have.
Dropping the constraints instead (ALTER TABLE) would take ACCESS EXCLUSIVE locks on tables that other
schools' live rows are in, stopping every login for the whole import: not an option.

The statement triggers that forget a school's LastImport (directory migration 0007) are skipped too, and
run here by the same DELETE on the rows written. Setting the parameter needs PostgreSQL's superuser or, from
PostgreSQL 15, `GRANT SET ON PARAMETER session_replication_role TO <the application's role>`; without it,
or when a table has a key or trigger this module does not know (a later migration), the import inserts as
before and the commit checks row by row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction

from trousseau.provisioning.sql import execute, fetch

# Each table the import inserts into: its foreign keys (column -> referenced table, by `id`).
KEYS: dict[str, dict[str, str]] = {
    "directory_pupil": {"school_id": "directory_school"},
    "directory_guardian": {"school_id": "directory_school"},
    "directory_guardianship": {"guardian_id": "directory_guardian", "pupil_id": "directory_pupil"},
    "accounts_account": {"pupil_id": "directory_pupil", "merged_into_id": "accounts_account"},
    "accounts_accountguardian": {"account_id": "accounts_account", "guardian_id": "directory_guardian"},
}
# What the skipped AFTER INSERT triggers of migration 0007 do, from the rows written (`{fresh}`).
FORGET = "DELETE FROM directory_lastimport WHERE school_id IN ({schools})"
FORGOTTEN: dict[str, str | None] = {
    "directory_pupil": "SELECT school_id FROM {fresh}",
    "directory_guardian": "SELECT school_id FROM {fresh}",
    "directory_guardianship": "SELECT p.school_id FROM directory_pupil p WHERE p.id IN (SELECT pupil_id FROM {fresh})",
    "accounts_account": None,  # no insert trigger: an account made outside an import changes no re-read
    "accounts_accountguardian": (
        "SELECT g.school_id FROM directory_guardian g WHERE g.id IN (SELECT guardian_id FROM {fresh})"
    ),
}
# The user triggers those tables have on INSERT (anything else: the row-by-row path).
INSERT_TRIGGERS = {f"{table}_forget_insert" for table, sql in FORGOTTEN.items() if sql}

_enabled: ContextVar[bool] = ContextVar("set_based_keys", default=False)


def fresh(table: str) -> str:
    return f"fresh_{table}"


@contextmanager
def set_based() -> Iterator[bool]:
    """For the import's transaction: the new rows' keys checked set-based, if this session may (yields whether)."""
    may = _may_skip_triggers() and _catalogue_as_known()
    if may:
        for table, keys in KEYS.items():
            columns = ", ".join(f"{column} bigint" for column in ["id", *keys])
            execute(f"DROP TABLE IF EXISTS pg_temp.{fresh(table)}")
            execute(f"CREATE TEMP TABLE {fresh(table)} ({columns}) ON COMMIT DROP")
    token = _enabled.set(may)
    try:
        yield may
    finally:
        _enabled.reset(token)


def insert(table: str, sql: str, params: Sequence[Any] | None = None) -> int:
    """Run `sql`, a plain INSERT INTO `table` (no RETURNING), its keys checked now if the import may; returns rows."""
    if not _enabled.get():
        return execute(sql, params)
    columns = returning(table)
    with skipped():
        count = execute(
            f"WITH written AS ({sql} RETURNING {columns}) INSERT INTO {fresh(table)} SELECT {columns} FROM written",  # noqa: S608
            params,
        )
    check(table)
    return count


def returning(table: str) -> str:
    """What a statement inserting into `table` in a CTE of its own returns for `kept` (besides its own columns)."""
    return ", ".join(["id", *KEYS[table]])


def kept(table: str, cte: str) -> str:
    """For a statement inserting into `table` in its CTE `cte` (RETURNING `returning(table)`): a CTE keeping
    the rows' keys for `check(table)`, when the import checks them set-based ("" otherwise). The statement
    runs inside `skipped()`, and `check(table)` after it (after the last such statement will do)."""
    if not _enabled.get():
        return ""
    columns = returning(table)
    return f", kept_{table} AS (INSERT INTO {fresh(table)} SELECT {columns} FROM {cte})"  # noqa: S608


@contextmanager
def skipped() -> Iterator[None]:
    """The per-row triggers skipped for the statements run inside (only when the import may).

    Set back on the way out; after an error nothing can run in the transaction, and undoing it (or the
    savepoint the statements ran in) undoes the setting with it.
    """
    if not _enabled.get():
        yield
        return
    execute("SET LOCAL session_replication_role = replica")
    yield
    execute("SET LOCAL session_replication_role = origin")


def check(table: str) -> None:
    """Every key of the rows written into `table` (so far): present, and locked as a trigger would have."""
    if not _enabled.get():
        return
    rows = fresh(table)
    for column, target in KEYS[table].items():
        # Rows this import inserted need no lock: nobody else sees them.
        mine = f"AND NOT EXISTS (SELECT 1 FROM {fresh(target)} n WHERE n.id = f.{column})" if target in KEYS else ""  # noqa: S608
        execute("DROP TABLE IF EXISTS pg_temp.fk_referenced")
        wanted = execute(
            f"CREATE TEMP TABLE fk_referenced ON COMMIT DROP AS SELECT DISTINCT f.{column} AS id FROM {rows} f "  # noqa: S608 (our names)
            f"WHERE f.{column} IS NOT NULL {mine}"
        )
        if not wanted:
            continue
        ((locked,),) = fetch(
            f"SELECT count(*) FROM (SELECT 1 FROM {target} t WHERE t.id IN (SELECT id FROM fk_referenced) "  # noqa: S608
            "FOR KEY SHARE OF t) locked"
        )
        if locked != wanted:
            msg = f"{table}.{column}: {wanted - locked} rows reference no {target} row"
            raise IntegrityError(msg)
    forgotten = FORGOTTEN[table]
    if forgotten:
        execute(FORGET.format(schools=forgotten.format(fresh=rows)))


def _may_skip_triggers() -> bool:
    """Whether this session may set session_replication_role (a savepoint: a refusal aborts only it).

    A session already out of the default `origin` (set by its operator for some reason of theirs) keeps
    it: the import then checks row by row, and sets nothing back to a value that was not there.
    """
    if fetch("SHOW session_replication_role") != [("origin",)]:
        return False
    try:
        with transaction.atomic():
            execute("SET LOCAL session_replication_role = replica")
            execute("SET LOCAL session_replication_role = origin")
    except DatabaseError:
        return False
    return True


def _catalogue_as_known() -> bool:
    """The foreign keys and insert triggers of the tables are those this module checks and replays."""
    keys = fetch(
        """SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, f.attname
             FROM pg_constraint c
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = c.confkey[1]
            WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)
              AND cardinality(c.conkey) = 1""",
        [list(KEYS)],
    )
    (composite,) = fetch(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) "
        "AND cardinality(conkey) <> 1",
        [list(KEYS)],
    )
    known = {(table, column, target, "id") for table, keys in KEYS.items() for column, target in keys.items()}
    # INSERT triggers: tgtype bit 2 (value 4) is INSERT.
    triggers = fetch(
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
        "AND tgrelid::regclass::text = ANY(%s) AND tgtype & 4 <> 0",
        [list(KEYS)],
    )
    return set(keys) == known and not composite[0] and {name for (name,) in triggers} == INSERT_TRIGGERS
