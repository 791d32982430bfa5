"""Statements run inside `planned()` are prepared: PostgreSQL parses and plans them once per connection."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from trousseau.core.planned import planned
from trousseau.core.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.django_db

PROBE = "SELECT %s::int + 1 AS planned_probe"


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")


def prepared_here(cursor, text: str) -> list[tuple[str, int, int]]:
    """This connection's prepared statements containing `text`: statement, generic and custom plans."""
    cursor.execute(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
        [f"%{text}%"],
    )
    return [row for row in cursor.fetchall() if "pg_prepared_statements" not in row[0]]


def test_a_statement_is_prepared_once_and_run_again_without_being_parsed():
    for value in range(8):
        with planned("default"), connection.cursor() as cursor:
            cursor.execute(PROBE, [value])
            assert cursor.fetchone() == (value + 1,)
    with connection.cursor() as cursor:
        found = prepared_here(cursor, "planned_probe")
    assert len(found) == 1, found  # one statement for the eight runs, its values as parameters
    statement, generic, custom = found[0]
    assert "$1" in statement
    assert generic + custom == 8
    assert generic > 0  # after its first runs, PostgreSQL keeps one plan for every value


def test_outside_the_block_nothing_is_prepared():
    with connection.cursor() as cursor:
        cursor.execute(PROBE, [1])
        assert prepared_here(cursor, "planned_probe") == []


def test_the_setting_turns_it_off(settings):
    settings.DATABASE_PLANNED_STATEMENTS = False
    with planned("default"), connection.cursor() as cursor:
        cursor.execute(PROBE, [1])
        assert prepared_here(cursor, "planned_probe") == []


def test_a_connection_closed_after_each_request_prepares_nothing(monkeypatch):
    # Preparing costs a statement's first run on a connection a round trip: it pays only when kept.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    with planned("default"), connection.cursor() as cursor:
        cursor.execute(PROBE, [1])
        assert prepared_here(cursor, "planned_probe") == []


def test_the_query_log_shows_a_prepared_statement_with_its_values():
    with CaptureQueriesContext(connection) as captured, planned("default"), connection.cursor() as cursor:
        cursor.execute(PROBE, [41])
    assert captured.captured_queries[-1]["sql"] == "SELECT 41::int + 1 AS planned_probe"


@pytest.fixture
def probe_table():
    """A table another connection can change (a deploy's migration), created and dropped outside the test's transaction."""
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("CREATE TABLE planned_probe_rows (id int)")
        other.execute("INSERT INTO planned_probe_rows VALUES (1)")
        try:
            yield other
        finally:
            other.execute("DROP TABLE planned_probe_rows")


@pytest.mark.django_db(transaction=True)  # autocommit, as a web process's statements run
def test_a_statement_whose_columns_a_migration_changed_is_prepared_again(probe_table):
    worker = connections.create_connection("default")  # a web process's own connection
    assert isinstance(worker, DatabaseWrapper)
    try:
        for _ in range(2):
            with worker.planned(), worker.cursor() as cursor:
                cursor.execute("SELECT * FROM planned_probe_rows WHERE id = %s", [1])
                assert cursor.fetchone() == (1,)
        probe_table.execute("ALTER TABLE planned_probe_rows ADD COLUMN added int DEFAULT 7")
        # PostgreSQL refuses the prepared statement now ("cached plan must not change result type"):
        # the cursor forgets the connection's prepared statements and runs it again.
        with worker.planned(), worker.cursor() as cursor:
            cursor.execute("SELECT * FROM planned_probe_rows WHERE id = %s", [1])
            assert cursor.fetchone() == (1, 7)
    finally:
        worker.close()
