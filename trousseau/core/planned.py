"""Statements PostgreSQL plans once per connection, for the hot paths' large statements.

    with planned_cursor(alias) as cursor:
        cursor.execute(sql, params)

    with planned(alias):
        rows = list(Model.objects.raw(sql, params))  # any cursor Django creates inside

Inside the block, on PostgreSQL, the cursors Django creates bind parameters on the server and prepare
each statement (core/postgresql/base.py): the first run on a connection parses and plans it, the next
ones only execute it. Preparing costs the first run a round trip of its own, which pays only on a
connection kept between requests (`TROUSSEAU_DB_CONN_MAX_AGE`, 60 s by default): with connections
closed after each request (0), or elsewhere, or with `DATABASE_PLANNED_STATEMENTS` off (a pool in
transaction mode that does not carry prepared statements: PgBouncer before 1.21, or without
`max_prepared_statements`), the block changes nothing.

For statements whose text is the same on every call (every value a parameter): a text with a value
in it would be parsed, planned and kept once per call. psycopg keeps a connection's last 100 texts
(and a text once per set of parameter types), deallocating the oldest.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connections


@contextlib.contextmanager
def planned(alias: str) -> Iterator[None]:
    connection = connections[alias]
    planned_block = getattr(connection, "planned", None)
    one_request = connection.settings_dict.get("CONN_MAX_AGE") == 0  # None: kept for ever
    if planned_block is None or one_request or not settings.DATABASE_PLANNED_STATEMENTS:
        yield
        return
    with planned_block():
        yield


@contextlib.contextmanager
def planned_cursor(alias: str) -> Iterator[Any]:
    """A cursor of `alias` whose statements are planned once per connection (Django's cursor wrapper)."""
    with planned(alias), connections[alias].cursor() as cursor:
        yield cursor
