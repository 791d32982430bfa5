"""Provisional accounts for an import on PostgreSQL, made set-based: no row of them passes through Python.

The pupils and guardian records of the schools in scope that need an account are selected in SQL; Python
only folds each distinct pair of names into its identifier base (`initial.nom`, accounts.identifiers), a
few thousand pairs for an académie. Each round then draws a candidate for every row still waiting and
inserts them all at once; the candidates already taken (or drawn twice) are left out and wait for the
next round, which draws again (with more digits after two rounds, as accounts_bulk.allocate_identifiers does).
Digits come from gen_random_uuid() (a strong random source), so they say nothing about other accounts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction

from trousseau.accounts.identifiers import identifier_base
from trousseau.accounts.models import Account, AccountKind, AccountState
from trousseau.directory.models import SchoolLevel
from trousseau.provisioning import fk_checks
from trousseau.provisioning.accounts_bulk import MAX_DIGITS
from trousseau.provisioning.copy import copy_rows, temp_table, temp_table_as
from trousseau.provisioning.sql import execute, fetch

MAX_ROUNDS = 20
# 48 random bits of a version 4 UUID, as a bigint.
RANDOM = "('x' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 12))::bit(48)::bigint"
# What set_unusable_password stores: "!" and 40 characters that no password hashes to. They are no
# secret (no password matches "!…"), so random() serves, at a fraction of gen_random_uuid()'s cost.
UNUSABLE = "'!' || md5(random()::text) || substr(md5(random()::text), 1, 8)"


def create_accounts(school_ids: list[int], *, now: datetime) -> int:
    """Accounts for the present pupils (collèges, lycées) and legal guardians of these schools that have none."""
    waiting = temp_table_as(
        "account_new",
        """SELECT %s::text AS kind, p.id AS row_id, p.first_name, p.last_name FROM directory_pupil p
             JOIN directory_school s ON s.id = p.school_id
            WHERE p.school_id = ANY(%s) AND p.left_at IS NULL AND s.level <> %s
              AND NOT EXISTS (SELECT 1 FROM accounts_account a WHERE a.pupil_id = p.id)
           UNION ALL
           SELECT %s::text, g.id, g.first_name, g.last_name FROM directory_guardian g
            WHERE g.school_id = ANY(%s) AND g.left_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM accounts_accountguardian ag WHERE ag.guardian_id = g.id)
              AND EXISTS (SELECT 1 FROM directory_guardianship gs
                           WHERE gs.guardian_id = g.id AND gs.is_legal_representative)""",
        [AccountKind.PUPIL, school_ids, SchoolLevel.ECOLE, AccountKind.GUARDIAN, school_ids],
    )
    if not waiting:
        return 0
    temp_table("account_base", "first_name varchar(100), last_name varchar(100), base varchar(64)")
    names = fetch("SELECT DISTINCT first_name, last_name FROM account_new")
    copy_rows("account_base", ["first_name", "last_name", "base"], ((f, n, identifier_base(f, n)) for f, n in names))
    temp_table_as(
        "account_waiting",
        """SELECT n.kind, n.row_id, n.first_name, n.last_name, b.base,
                  ceil(log(4 * count(*) OVER (PARTITION BY b.base) + 1))::int AS crowd
             FROM account_new n JOIN account_base b USING (first_name, last_name)""",
    )
    execute("CREATE UNIQUE INDEX ON account_waiting (kind, row_id)")
    temp_table("account_made", "kind text, row_id bigint, account_id bigint")
    columns, values, params = _columns(now)
    made = 0
    for attempt in range(MAX_ROUNDS + 1):
        made += _draw(columns, values, [MAX_DIGITS, 2 + attempt // 2, *params])
        if made >= waiting:
            break
        execute("DELETE FROM account_waiting w USING account_made m WHERE m.kind = w.kind AND m.row_id = w.row_id")
    else:
        msg = "no free identifiers left"
        raise RuntimeError(msg)
    fk_checks.check("accounts_account")
    fk_checks.insert(
        "accounts_accountguardian",
        "INSERT INTO accounts_accountguardian (account_id, guardian_id) "
        "SELECT account_id, row_id FROM account_made WHERE kind = %s",
        [AccountKind.GUARDIAN],
    )
    return made


def _draw(columns: list[str], values: list[str], params: list[Any]) -> int:
    """One round: a candidate for each waiting row, inserted unless taken; returns how many were made.

    The candidates already taken are left out by a join, and the others inserted plainly: cheaper for
    PostgreSQL than ON CONFLICT's speculative insertion into every unique index of the accounts. An
    account made by someone else in between (sign-up by FranceConnect, the console) would break the plain
    insert: the savepoint is undone and the round drawn again with `ON CONFLICT DO NOTHING`.
    """
    try:
        with transaction.atomic(), fk_checks.skipped():
            return execute(_round(columns, values, taken_out=True), params)
    except IntegrityError:
        return execute(_round(columns, values, taken_out=False), params)


def _round(columns: list[str], values: list[str], *, taken_out: bool) -> str:
    free = "WHERE NOT EXISTS (SELECT 1 FROM accounts_account a WHERE a.identifier = candidates.identifier)"
    return f"""WITH drawn AS (
          SELECT DISTINCT ON (identifier) * FROM (
            SELECT w.*, w.base || lpad(({RANDOM} %% (10::bigint ^ d.n)::bigint)::text, d.n, '0') AS identifier
              FROM account_waiting w
              CROSS JOIN LATERAL (SELECT LEAST(%s, GREATEST(%s, w.crowd)) AS n) d
          ) candidates {free if taken_out else ""} ORDER BY identifier, kind, row_id
        ), inserted AS (
          INSERT INTO accounts_account ({", ".join(columns)})
          SELECT {", ".join(values)} FROM drawn
          {"" if taken_out else "ON CONFLICT (identifier) DO NOTHING"}
          RETURNING identifier, {fk_checks.returning("accounts_account")}
        ){fk_checks.kept("accounts_account", "inserted")}
        INSERT INTO account_made (kind, row_id, account_id)
        SELECT d.kind, d.row_id, i.id FROM inserted i JOIN drawn d USING (identifier)"""  # noqa: S608


def _columns(now: datetime) -> tuple[list[str], list[str], list[Any]]:
    """Every concrete column of Account: the import's values, and the field's default for the others."""
    computed = {
        "identifier": "identifier",
        "kind": "kind",
        "first_name": "first_name",
        "last_name": "last_name",
        "pupil_id": f"CASE WHEN kind = '{AccountKind.PUPIL}' THEN row_id END",
        "password": UNUSABLE,
    }
    given = {"state": AccountState.PROVISIONAL, "created_at": now}
    columns, values, params = [], [], []
    for field in Account._meta.concrete_fields:  # noqa: SLF001
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in computed:
            values.append(computed[field.attname])
        else:
            default = given.get(field.attname, field.get_default())
            values.append("%s")
            params.append(field.get_db_prep_save(default, connection))
    return columns, values, params
