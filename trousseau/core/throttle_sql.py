"""The throttle's counting and settling as one statement each, on PostgreSQL (core/throttle.py).

`count` is one `INSERT … ON CONFLICT … DO UPDATE … RETURNING` for every guard of an attempt: the
missing counters are inserted already counted, the others counted in place, each under the row lock
the conflict takes, in key order (the one lock order of every process: no deadlock). `count_if_open`
is the same statement behind a read of the counters: nothing is counted when a guard is closed, and a
guard closed concurrently, after that read, is left uncounted for the caller to see.

`settle` is one statement: the rows locked in key order (a `FOR UPDATE` subquery, the order `count`
takes them in), the reset ones deleted and the refunded ones given back their count. The delays are
computed by the database from the same settings as `throttle.delay_after`: seconds doubling from
`THROTTLE_BASE_DELAY`, the exponent capped at 32, the whole capped at `THROTTLE_MAX_DELAY`.

Other databases keep the ORM's path in throttle.py (SQLite serialises writers anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from trousseau.core.models import ThrottleCounter
from trousseau.core.planned import planned_cursor

TABLE = ThrottleCounter._meta.db_table  # noqa: SLF001


@dataclass(frozen=True)
class Counter:
    """What a statement needs of a guard: its key, its free allowance, its hard limit."""

    key: str
    free_failures: int
    hard_limit: int | None


def supported() -> bool:
    return connection.vendor == "postgresql"


def _by_key(counters: Sequence[Counter], column: str, values: list[Any]) -> tuple[str, list[Any]]:
    """A per-key value in SQL: `CASE t.key WHEN %s THEN %s … END` and its parameters."""
    cases = " ".join("WHEN %s THEN %s" for _ in counters)
    params: list[Any] = []
    for counter, value in zip(counters, values, strict=True):
        params += [counter.key, value]
    return f"CAST(CASE {column} {cases} END AS integer)", params


def _delay_from(base_sql: str, over_sql: str) -> str:
    """`base + min(BASE * 2**min(over - 1, 32), MAX)` in SQL, for over > 0 (throttle.delay_after)."""
    return f"({base_sql} + LEAST(POWER(2, LEAST({over_sql} - 1, 32)) * %s, %s) * INTERVAL '1 second')"


def _delay_params() -> list[float]:
    base: timedelta = settings.THROTTLE_BASE_DELAY
    cap: timedelta = settings.THROTTLE_MAX_DELAY
    return [base.total_seconds(), cap.total_seconds()]


def _counting(
    counters: Sequence[Counter], *, now: datetime, first: Sequence[datetime | None], locked: datetime
) -> tuple[str, str, list[Any], list[Any]]:
    """The rows a count proposes (`VALUES …`, typed) and its `DO UPDATE SET …`, with their parameters.

    `first` is each counter's `blocked_until` after a first failure (a new row); `locked` the
    `blocked_until` of a counter at its hard limit.
    """
    forget: timedelta = settings.THROTTLE_FORGET_AFTER
    values = ", ".join("(%s, 1, CAST(%s AS timestamptz), CAST(%s AS timestamptz))" for _ in counters)
    values_params: list[Any] = []
    for counter, blocked in zip(counters, first, strict=True):
        values_params += [counter.key, now, blocked]
    # The new count, from the row as it was (every SET expression reads the old row).
    failures = "(CASE WHEN t.last_failure_at < %s THEN 1 ELSE t.failures + 1 END)"
    free_sql, free_params = _by_key(counters, "t.key", [c.free_failures for c in counters])
    over = f"({failures} - {free_sql})"
    hard_sql, hard_params = _by_key(counters, "t.key", [c.hard_limit for c in counters])
    blocked_until = (
        f"CASE WHEN {failures} >= {hard_sql} THEN %s WHEN {over} <= 0 THEN NULL ELSE {_delay_from('%s', over)} END"
    )
    forget_before = now - forget
    set_params: list[Any] = [forget_before]  # failures
    set_params += [forget_before, *hard_params, locked]  # hard limit
    set_params += [forget_before, *free_params]  # over <= 0
    set_params += [now, forget_before, *free_params, *_delay_params()]  # the delay
    update = (
        f"DO UPDATE SET failures = {failures}, last_failure_at = EXCLUDED.last_failure_at, "
        f"blocked_until = {blocked_until}"
    )
    return f"VALUES {values}", update, values_params, set_params


def count(
    counters: Sequence[Counter], *, now: datetime, first: Sequence[datetime | None], locked: datetime
) -> dict[str, int]:
    """One more failure on each counter (sorted by key), closed or not; returns every counter's failures."""
    values, update, values_params, set_params = _counting(counters, now=now, first=first, locked=locked)
    sql = (
        f"INSERT INTO {TABLE} AS t (key, failures, last_failure_at, blocked_until) {values} "
        f"ON CONFLICT (key) {update} RETURNING key, failures"
    )
    with planned_cursor(connection.alias) as cursor:
        cursor.execute(sql, [*values_params, *set_params])
        return dict(cursor.fetchall())


@dataclass(frozen=True)
class Admission:
    """What `count_if_open` did: the failures of the counters it counted, or the end of a closed one's delay."""

    counted: dict[str, int]
    closed_until: datetime | None


def count_if_open(
    counters: Sequence[Counter], *, now: datetime, first: Sequence[datetime | None], locked: datetime
) -> Admission:
    """One more failure on each counter (sorted by key) if none is closed, in one statement.

    The statement reads first whether a counter's delay still runs (`closed_until`): then it writes
    nothing. Otherwise it counts them all, each under the row lock its conflict takes, in key order;
    a counter closed by a concurrent attempt between that read and its lock is locked but neither
    counted nor returned, and the caller gives the others their count back (throttle.admit). One
    statement, atomic by itself, instead of a transaction: no BEGIN and COMMIT round trips.
    """
    values, update, values_params, set_params = _counting(counters, now=now, first=first, locked=locked)
    keys = [counter.key for counter in counters]
    returned = "key, failures"
    if not connection.in_atomic_block:
        # The attempt's count alone (throttle.admit): its commit does not wait for the disk (a synchronous
        # commit was about 5 ms of waiting per login). Other processes see it at once all the same:
        # visibility does not wait for the flush, so the throttle stays atomic across processes. A login's
        # own later write (its audit event, its settling) commits durably, which flushes the log up to this
        # count too; otherwise the WAL writer does within a fraction of a second. Only a crash of the
        # database in that window loses the count, and an attempt under check then gets no answer.
        # Inside a caller's transaction, that transaction's commit is left as it is.
        returned += ", set_config('synchronous_commit', 'off', true)"
    sql = (
        f"WITH closed AS MATERIALIZED (SELECT max(blocked_until) AS until FROM {TABLE} "  # noqa: S608 - our table, parameters bound
        f"WHERE key IN ({_marks(keys)}) AND blocked_until > %s), "
        f"counted AS (INSERT INTO {TABLE} AS t (key, failures, last_failure_at, blocked_until) "
        f"SELECT * FROM ({values}) AS v WHERE (SELECT until FROM closed) IS NULL "
        f"ON CONFLICT (key) {update} WHERE t.blocked_until IS NULL OR t.blocked_until <= EXCLUDED.last_failure_at "
        f"RETURNING {returned}) "
        "SELECT key, failures, NULL FROM counted UNION ALL SELECT NULL, NULL, until FROM closed WHERE until IS NOT NULL"
    )
    with planned_cursor(connection.alias) as cursor:
        cursor.execute(sql, [*keys, now, *values_params, *set_params])
        rows = cursor.fetchall()
    counted = {key: failures for key, failures, until in rows if key is not None}
    closed_until = next((until for key, _failures, until in rows if key is None), None)
    return Admission(counted, closed_until)


# One write of a statement: its SQL (a single INSERT, UPDATE or DELETE, placeholders `%s`) and its parameters.
Statement = tuple[str, list[Any]]


def settle(
    refund: Sequence[Counter], reset: Sequence[str], *, now: datetime, then: Sequence[Statement] = ()
) -> list[tuple[Any, ...]]:
    """Give back one failure on `refund`, delete `reset`, in one statement locking in key order.

    `then`: the attempt's other writes (a login's session and audit event), sent in the same statement
    as data-modifying CTEs; the rows the last one returns (`RETURNING`) are returned. One round trip
    instead of one per write.
    """
    keys = sorted({*(c.key for c in refund), *reset})
    marks = ", ".join(["%s"] * len(keys))
    ctes = [f"l AS MATERIALIZED (SELECT key FROM {TABLE} WHERE key IN ({marks}) ORDER BY key FOR UPDATE)"]  # noqa: S608 - our table, parameters bound
    params: list[Any] = list(keys)
    if reset and refund:
        ctes.append(f"gone AS (DELETE FROM {TABLE} WHERE key IN (SELECT key FROM l) AND key IN ({_marks(reset)}))")  # noqa: S608 - our table, parameters bound
        params += list(reset)
    if refund:
        free_sql, free_params = _by_key(refund, "t.key", [c.free_failures for c in refund])
        over = f"(t.failures - 1 - {free_sql})"
        since = _delay_from("COALESCE(t.last_failure_at, %s)", over)
        write = (
            f"UPDATE {TABLE} AS t SET failures = GREATEST(t.failures - 1, 0), "  # noqa: S608 - our table, parameters bound
            f"blocked_until = CASE WHEN {over} <= 0 THEN NULL ELSE {since} END "
            f"WHERE t.key IN (SELECT key FROM l) AND t.key IN ({_marks(refund)})"
        )
        params += [*free_params, now, *free_params, *_delay_params(), *(c.key for c in refund)]
    else:
        write = f"DELETE FROM {TABLE} WHERE key IN (SELECT key FROM l)"  # noqa: S608 - our table, parameters bound
    if then:
        # The counters first, as when each write was its own statement: the main query reads `settled`
        # in a one-time filter, which runs before it scans the last write; the other writes run after
        # it, last listed first (PostgreSQL's order for CTEs nothing reads).
        ctes.append(f"settled AS ({write} RETURNING 1)")
        for index, (sql, statement_params) in enumerate(then):
            ctes.append(f"w{index} AS ({sql})")
            params += statement_params
        write = f"SELECT * FROM w{len(then) - 1} WHERE (SELECT count(*) FROM settled) >= 0"  # noqa: S608 - our CTEs
    with planned_cursor(connection.alias) as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} {write}", params)
        return cursor.fetchall() if cursor.description else []


def _marks(items: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(items))
