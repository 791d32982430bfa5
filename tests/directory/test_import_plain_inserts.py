"""PostgreSQL's import writes new rows with plain statements, and falls back to ON CONFLICT if a key was taken meanwhile.

Imports hold an advisory lock, but accounts are also made by other paths; a plain INSERT that meets a
key written by another writer must not fail the import: its savepoint is undone and the ON CONFLICT
statement of the same meaning runs instead (provisioning/copy.update_then_insert, accounts_sql._draw).
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests import factories
from tests.directory.helpers import ine, pupils_csv
from trousseau.accounts.models import Account, AccountKind
from trousseau.provisioning import accounts_sql
from trousseau.provisioning.copy import update_then_insert
from trousseau.provisioning.services import import_records
from trousseau.provisioning.sql import execute, fetch

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's"),
]


def test_a_key_written_meanwhile_undoes_the_plain_statements_and_runs_the_upsert():
    execute("CREATE TEMP TABLE plain_t (k integer PRIMARY KEY, v text)")
    execute("INSERT INTO plain_t VALUES (1, 'old')")
    update_then_insert(
        "UPDATE plain_t SET v = 'updated'",
        "INSERT INTO plain_t VALUES (1, 'plain'), (2, 'plain')",  # key 1 is taken: a unique violation
        "INSERT INTO plain_t VALUES (1, 'upsert'), (2, 'upsert') ON CONFLICT (k) DO NOTHING",
    )
    assert fetch("SELECT k, v FROM plain_t ORDER BY k") == [(1, "old"), (2, "upsert")]


def test_plain_statements_write_when_no_key_is_taken():
    execute("CREATE TEMP TABLE plain_t (k integer PRIMARY KEY, v text)")
    execute("INSERT INTO plain_t VALUES (1, 'old')")
    update_then_insert(
        "UPDATE plain_t SET v = 'updated' WHERE k = 1",
        "INSERT INTO plain_t VALUES (2, 'plain')",
        "INSERT INTO plain_t VALUES (2, 'upsert') ON CONFLICT (k) DO NOTHING",
    )
    assert fetch("SELECT k, v FROM plain_t ORDER BY k") == [(1, "updated"), (2, "plain")]


def test_an_identifier_taken_meanwhile_is_drawn_again(monkeypatch):
    school = factories.school(uai="0145678B", name="Collège Jean-Moulin")
    Account.objects.create(identifier="h.martin12", kind=AccountKind.GUARDIAN, first_name="H", last_name="M")
    monkeypatch.setattr(accounts_sql, "RANDOM", "12")  # every draw is "12" (then "012" after two rounds)
    plain = accounts_sql._round

    def blind(columns, values, *, taken_out):
        # As if the account had been made after the taken ones were left out: the plain insert meets it.
        sql = plain(columns, values, taken_out=False)
        return sql.replace("ON CONFLICT (identifier) DO NOTHING", "") if taken_out else sql

    monkeypatch.setattr(accounts_sql, "_round", blind)
    result = import_records(
        pupils=pupils_csv([f"{ine(1)};Martin;Hugo;02/05/2011;4e A;{school.uai}"]), bulk_copy=True, max_bytes=None
    )
    assert result.applied
    assert result.accounts_created == 1
    made = Account.objects.get(pupil__ine=ine(1))
    assert made.identifier == "h.martin012"
