"""Django's PostgreSQL backend, with a health check that asks the socket before it asks the server, and
cursors whose statements PostgreSQL plans once per connection.

A persistent connection must be replaced when the server dropped it (a restart, a failover), or the
next request fails (security.md §7 check 37). Django's check is a `SELECT 1` at the first query of
every request: a round trip to the server on every request, about 7 in a family's morning (issue #21).
A server that drops a connection says so on its socket: it sends its termination notice, or the
kernel delivers the close. An idle connection that has received nothing is therefore still open, and
only a connection with something waiting on its socket gets Django's `SELECT 1`.

Django's cursors bind parameters on the client and send each statement as text: PostgreSQL parses and
plans it every time. For the few large statements of the hot paths, planning costs the server more
than running them (the token endpoint's: 1.2 ms of planning for 0.4 ms of execution, issue #21), and
the worker waits for it. `planned()` gives cursors that bind on the server and prepare each statement
(psycopg's `prepare=True`): parsed and planned at its first run on a connection, then only executed.
psycopg deallocates them all after a rollback, and keeps them apart by their parameters' types.
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.backends.postgresql import base, operations
from psycopg import errors
from psycopg.pq import TransactionStatus


class PlannedCursor(base.ServerBindingCursor):  # type: ignore[misc,name-defined]  # Django's psycopg 3 cursor
    """Django's server-binding cursor, every statement prepared (named, planned once per connection)."""

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> Any:
        try:
            return super().execute(query, params, prepare=True, binary=binary)
        except errors.FeatureNotSupported as exc:
            # A migration run by another process (a deploy) changed the columns a prepared statement of
            # this connection returns: PostgreSQL refuses it from then on ("cached plan must not change
            # result type"). Outside a transaction, forget this connection's prepared statements (psycopg
            # forgets its own with them) and run it again; inside one, the transaction is lost, and its
            # rollback makes psycopg deallocate them all: the next request prepares afresh. PostgreSQL
            # refuses the statement before running it: running it again writes nothing twice.
            stale = "cached plan must not change result type" in str(exc)
            if not stale or self.connection.info.transaction_status != TransactionStatus.IDLE:
                raise
            super().execute("DEALLOCATE ALL", prepare=False)
            return super().execute(query, params, prepare=True, binary=binary)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        """The statement as run, for the query log (DEBUG, tests): a prepared statement's text with its
        values, which psycopg does not keep for it."""
        if isinstance(cursor, PlannedCursor):
            try:
                return str(self.compose_sql(sql, params))
            except errors.DataError:
                return sql
        return super().last_executed_query(cursor, sql, params)


# psycopg prepares nothing, even when asked, while its threshold is None (Django's default): a threshold
# no statement reaches leaves preparation to the statements that ask for it.
_ONLY_WHEN_ASKED = 2**31 - 1


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    _planned = 0  # depth of `planned()` blocks: cursors created inside prepare their statements

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return bool(super().is_usable())  # mid-transaction (an error, a test's atomic block): ask the server
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
        if not readable:
            return True
        return bool(super().is_usable())

    @contextmanager
    def planned(self) -> Iterator[None]:
        """Cursors created inside (Django's `cursor()`, a raw queryset's) prepare their statements."""
        self._planned += 1
        try:
            yield
        finally:
            self._planned -= 1

    def create_cursor(self, name: str | None = None) -> Any:
        if name is None and self._planned:
            if self.connection.prepare_threshold is None:
                self.connection.prepare_threshold = _ONLY_WHEN_ASKED
            factory = self.connection.cursor_factory
            self.connection.cursor_factory = PlannedCursor
            try:
                return super().create_cursor(name)
            finally:
                self.connection.cursor_factory = factory
        return super().create_cursor(name)
