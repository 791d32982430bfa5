"""Django's database sessions, writing each session once per request.

A login saves its session inside the transaction that also settles the throttling counters and
writes the audit event (`trousseau.accounts.sessions.session_open`), so that one commit covers all
of it; Django's session middleware then saves the session again at the end of the response, which
here writes nothing when the data and the key are those this request already wrote and committed. A
request that changes the session after that save (or never saved it) writes as Django's own store
does.

A new key (`cycle_key`, which Django's login calls) is not written at once: Django's store looks the
drawn key up, inserts an empty row under it and updates that row with the data at the next save
(six statements with their savepoints); here the next save inserts the row with its data (one), or
the caller inserts it with its own writes (`unsaved_row`, `inserted`: a login, accounts/sessions.py).
The old key's row is deleted by one statement (Django's store reads it first).

Every request with a session cookie reads its row, and most requests of a login journey write it: these
statements are written once as SQL (`_sql`) rather than built by the ORM at each request, which cost
more than the statements themselves (issue #21's profile of a morning journey). Same table, columns,
encoding and semantics as Django's store: an UPDATE that finds no row raises UpdateError, as Django's
forced update does.

A request may also give the store a write of its own (`write_with_save`: an `INSERT … RETURNING id`,
a SAML answer's audit event) to send with the session's save at the end of the response: on
PostgreSQL as a CTE of the session's UPDATE, one round trip and one commit for both.

A logged-in request then loads its account, a second round trip for a row that hangs off the session.
An app above the kernel may register a `Companion` (accounts: the session's account, by its
`AccountSession` row): the session's row is then read with it, by one statement with LEFT JOINs, and
the store keeps it in `companion` for the request (None when the join finds nothing).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone

from trousseau.core.planned import planned, planned_cursor
from trousseau.core.secrets import random_string


@functools.cache
def _sql(table: str, alias: str) -> dict[str, str]:
    """The store's statements for `table` in the database `alias`, quoted for it."""
    quote = connections[alias].ops.quote_name
    t, key, data, expiry = (quote(n) for n in (table, "session_key", "session_data", "expire_date"))
    return {
        "read": f"SELECT {data} FROM {t} WHERE {key} = %s AND {expiry} > %s",  # noqa: S608 - quoted names, parameters bound
        "update": f"UPDATE {t} SET {data} = %s, {expiry} = %s WHERE {key} = %s",  # noqa: S608 - quoted names, parameters bound
        "insert": f"INSERT INTO {t} ({key}, {data}, {expiry}) VALUES (%s, %s, %s)",  # noqa: S608 - quoted names, parameters bound
        "delete": f"DELETE FROM {t} WHERE {key} = %s",  # noqa: S608 - quoted names, parameters bound
    }


class Companion(Protocol):
    """A row read with the session, by the same statement."""

    def joined(self, alias: str, session_table: str) -> tuple[list[str], str, list[Any]]:
        """The columns to select, the LEFT JOINs onto `session_table` (quoted) and the JOINs' parameters."""

    def build(self, alias: str, values: tuple[Any, ...]) -> object | None:
        """The object of those columns' values, or None when the joins found nothing."""


_companions: list[Companion] = []

# Writes sent with a session's save (`write_with_save`): SQL, its parameters, what gets the id it returns.
Carried = list[tuple[str, list[Any], Callable[[Any], object]]]


def accompany(companion: Companion) -> None:
    """Called from an AppConfig.ready(); one companion at most (a second call replaces the first)."""
    _companions[:] = [companion]
    _read_with.cache_clear()


@functools.cache
def _read_with(table: str, alias: str) -> tuple[str, list[Any]]:
    """The session's read with the companion's columns: the SQL and the JOINs' parameters."""
    quote = connections[alias].ops.quote_name
    t, key, data, expiry = (quote(n) for n in (table, "session_key", "session_data", "expire_date"))
    columns, joins, params = _companions[0].joined(alias, t)
    sql = f"SELECT {t}.{data}, {', '.join(columns)} FROM {t} {joins} WHERE {t}.{key} = %s AND {t}.{expiry} > %s"  # noqa: S608 - quoted names, parameters bound
    return sql, params


class SessionStore(DatabaseSessionStore):
    def __init__(self, session_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(session_key, **kwargs)
        self._written: tuple[str, bytes] | None = None  # (key, serialized data) this object last wrote
        self._unsaved_key = False  # the key was drawn by cycle_key and has no row yet
        self._stale_key: str | None = None  # the key cycle_key replaced, when its deletion was deferred
        self._defer_stale = False  # set by `defer_stale_deletion` for the next cycle_key only
        self.companion: object | None = None  # what the registered Companion read with the session
        self._carried: Carried = []  # write_with_save's

    def _database(self, *, write: bool) -> str:
        route = router.db_for_write if write else router.db_for_read
        return str(route(self.model))

    def _run(self, name: str, params: list[Any], *, write: bool) -> Any:
        """One of `_sql`'s statements on the session table's database; the cursor (rows read, rowcount)."""
        using = self._database(write=write)
        connection = connections[using]
        with planned(using):
            cursor = connection.cursor()
        cursor.execute(_sql(self.model._meta.db_table, using)[name], params)  # noqa: SLF001
        return cursor

    def _datetime(self, value: Any, *, write: bool) -> Any:
        """A datetime as the database's DateTimeField stores it (naive UTC text on SQLite)."""
        return connections[self._database(write=write)].ops.adapt_datetimefield_value(value)

    def load(self) -> dict[str, Any]:
        """Django's, by one prepared SELECT: the data of the key's unexpired row, or {} and no key."""
        if self.session_key is None:
            return {}
        now = self._datetime(timezone.now(), write=False)
        if _companions:
            row = self._read_with_companion(now)
        else:
            with self._run("read", [self.session_key, now], write=False) as cur:
                row = cur.fetchone()
        if row is None:
            self._session_key = None
            return {}
        decoded: dict[str, Any] = self.decode(row[0])
        return decoded

    def _read_with_companion(self, now: Any) -> tuple[Any, ...] | None:
        using = self._database(write=False)
        sql, params = _read_with(self.model._meta.db_table, using)  # noqa: SLF001
        with planned_cursor(using) as cursor:
            cursor.execute(sql, [*params, self.session_key, now])
            row: tuple[Any, ...] | None = cursor.fetchone()
        self.companion = _companions[0].build(using, row[1:]) if row is not None else None
        return row

    def _state(self) -> tuple[str, bytes] | None:
        if self.session_key is None:
            return None
        return self.session_key, self.serializer().dumps(dict(self.items()))

    def cycle_key(self) -> None:
        """Django's (a new key, the same data, the old row deleted); the new row waits for `save`.

        The old row is deleted at once (one DELETE), unless the caller announced that it inserts the new
        row itself in the same transaction (`defer_stale_deletion`, a login): that statement then deletes
        it too (`stale_key`). Never left to the end of the response, which saves no empty session (the
        old key would stay valid after a logout that empties it).
        """
        data = self._session  # type: ignore[attr-defined]  # Django's own, absent from django-stubs
        old = None if self._unsaved_key else self.session_key  # a key still without a row has none to delete
        # Not looked up: 32 characters drawn by `secrets` from 36 (about 2**165 keys) do not collide
        # with a live session; were one to, the INSERT in `save` fails the request and shares nothing.
        self._session_key = random_string(32, VALID_KEY_CHARS)
        self._session_cache = data
        self._unsaved_key = True
        self.modified = True
        defer, self._defer_stale = self._defer_stale, False
        if old and defer:
            self._stale_key = old
        elif old:
            self.delete(old)

    def create(self) -> None:
        """A first session (Django's `save` of a session without a key): its key not looked up and its row
        inserted with its data, by one INSERT without a savepoint, as after `cycle_key` (Django's store
        looks the key up, then inserts inside a transaction)."""
        self._session_key = random_string(32, VALID_KEY_CHARS)
        self._unsaved_key = True
        self._insert()
        self.modified = True

    def write_with_save(self, sql: str, params: list[Any], done: Callable[[Any], object]) -> None:
        """Send `sql` (one `INSERT … RETURNING id`) with this session's save at the end of the response,
        and give `done` the id it returned. The session is marked modified, so that Django's middleware
        saves it; a response it does not save (a server error, a session emptied) writes none of them:
        for the record of what only a delivered response does (a SAML answer)."""
        self._carried.append((sql, params, done))
        self.modified = True

    def save(self, must_create: bool = False) -> None:  # noqa: FBT001, FBT002 - Django's signature
        carried, self._carried = self._carried, []
        if self._unsaved_key:
            self._send_alone(carried)
            self._insert()
        elif not carried and not must_create and self._written is not None and self._written == self._state():
            return
        elif must_create or self.session_key is None:
            self._send_alone(carried)
            super().save(must_create=must_create)
        else:
            self._update(carried)
        self._saved()

    def _send_alone(self, carried: Carried) -> None:
        if not carried:  # nearly every save: no cursor for nothing
            return
        with connections[self._database(write=True)].cursor() as cursor:
            for sql, params, done in carried:
                cursor.execute(sql, params)
                done(cursor.fetchone()[0])

    def _update(self, carried: Carried) -> None:
        """Django's forced update of the row, in one statement (no savepoint: an UPDATE is atomic alone),
        with the carried writes as its CTEs on PostgreSQL (elsewhere: each before it, alone)."""
        data = self.encode(self._get_session())  # type: ignore[attr-defined]  # Django's own
        expiry = self._datetime(self.get_expiry_date(), write=True)
        using = self._database(write=True)
        if carried and connections[using].vendor == "postgresql":
            updated = self._update_carrying(using, carried, [data, expiry, self.session_key])
        else:
            self._send_alone(carried)
            try:
                with self._run("update", [data, expiry, self.session_key], write=True) as cur:
                    updated = cur.rowcount
            except DatabaseError as exc:
                raise UpdateError from exc
        if updated != 1:
            raise UpdateError  # the row is gone (logged out elsewhere, expired and cleared): Django's answer

    def _update_carrying(self, using: str, carried: Carried, update: list[Any]) -> int:
        """PostgreSQL: `WITH w0 AS (…), … , u AS (UPDATE … RETURNING 1) SELECT` the rows updated and each
        write's id. The writes' CTEs run whether or not the session's row is still there."""
        ctes = [f"w{n} AS ({sql})" for n, (sql, _, _) in enumerate(carried)]
        ids = ", ".join(f"(SELECT * FROM w{n})" for n in range(len(carried)))  # noqa: S608 - our names
        update_sql = _sql(self.model._meta.db_table, using)["update"]  # noqa: SLF001
        # The callers' statements, every value of theirs a parameter; the names are ours.
        sql = f"WITH {', '.join(ctes)}, u AS ({update_sql} RETURNING 1) SELECT (SELECT count(*) FROM u), {ids}"  # noqa: S608
        params = [value for _, written, _ in carried for value in written]
        try:
            with planned_cursor(using) as cursor:
                cursor.execute(sql, [*params, *update])
                updated, *returned = cursor.fetchone()
        except DatabaseError as exc:
            raise UpdateError from exc
        for (_, _, done), pk in zip(carried, returned, strict=True):
            done(pk)
        return int(updated)

    def _saved(self) -> None:
        self._written = None
        state = self._state()

        # Known as written only once committed: a save rolled back with its transaction is made again.
        def committed() -> None:
            self._written = state

        transaction.on_commit(committed)

    def unsaved_row(self) -> AbstractBaseSession | None:
        """The row `save` would insert for a new key (data included), or None when the key has its row.

        For a caller that inserts it with other writes in one statement, then calls `inserted`.
        """
        if not self._unsaved_key:
            return None
        row: AbstractBaseSession = self.create_model_instance(self._get_session(no_load=True))  # type: ignore[attr-defined]
        return row

    def defer_stale_deletion(self) -> None:
        """The next `cycle_key` leaves the old row to the caller, who deletes it with the new row's insert
        (`unsaved_row`, `stale_key`, `inserted`) or calls `delete_stale`."""
        self._defer_stale = True

    def delete_stale(self) -> None:
        """The old key's row deleted now, if its deletion was deferred and is still due; ends the deferral."""
        self._defer_stale = False
        if self._stale_key is not None:
            self._run("delete", [self._stale_key], write=True).close()
            self._stale_key = None

    def stale_key(self) -> str | None:
        """The key whose row the caller inserting `unsaved_row` must delete in the same statement."""
        return self._stale_key

    def inserted(self) -> None:
        """The row given by `unsaved_row` was inserted and `stale_key`'s deleted, in the caller's transaction."""
        self._unsaved_key = False
        self._stale_key = None
        self._saved()

    def _insert(self) -> None:
        """The new key's row with its data, in the caller's transaction (no savepoint: see cycle_key)."""
        self.delete_stale()
        data = self.encode(self._get_session(no_load=True))  # type: ignore[attr-defined]  # as above
        expiry = self._datetime(self.get_expiry_date(), write=True)
        self._run("insert", [self.session_key, data, expiry], write=True).close()
        self._unsaved_key = False

    def delete(self, session_key: str | None = None) -> None:
        if self._unsaved_key and session_key in (None, self.session_key):
            self._unsaved_key = False  # no row for the new key (flush, logout right after a new key)
            self.delete_stale()  # but the replaced key's row, if deferred, goes
        else:
            # One DELETE: Django's store reads the row first (to delete it through the model).
            key = session_key or self.session_key
            if key is not None:
                self._run("delete", [key], write=True).close()
        self._written = None
