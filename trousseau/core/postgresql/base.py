"""Django's PostgreSQL backend with a health check that asks the socket before it asks the server.

A persistent connection must be replaced when the server dropped it (a restart, a failover), or the
next request fails (security.md §7 check 37). Django's check is a `SELECT 1` at the first query of
every request: a round trip to the server on every request, about 7 in a family's morning (issue #21).
A server that drops a connection says so on its socket: it sends its termination notice, or the
kernel delivers the close. An idle connection that has received nothing is therefore still open, and
only a connection with something waiting on its socket gets Django's `SELECT 1`.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
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
