"""The throttle's counting and settling as one statement each, on PostgreSQL (core/throttle.py).

`count` is one `INSERT … ON CONFLICT … DO UPDATE … RETURNING` for every guard of an attempt: the
missing counters are inserted already counted, the others counted in place, each under the row lock
the conflict takes, in key order (the one lock order of every process: no deadlock). With `open_only`
a counter whose delay still runs is locked but neither counted nor returned: the caller then rolls
the whole attempt back (nothing counted when a guard is closed).

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


def count(
    counters: Sequence[Counter], *, now: datetime, first: Sequence[datetime | None], locked: datetime, open_only: bool
) -> dict[str, int]:
    """One more failure on each counter (sorted by key); returns the failures of the counters counted.

    `first` is each counter's `blocked_until` after a first failure (a new row); `locked` the
    `blocked_until` of a counter at its hard limit.
    """
    forget: timedelta = settings.THROTTLE_FORGET_AFTER
    values = ", ".join("(%s, 1, %s, %s)" for _ in counters)
    params: list[Any] = []
    for counter, blocked in zip(counters, first, strict=True):
        params += [counter.key, now, blocked]
    # The new count, from the row as it was (every SET expression reads the old row).
    failures = "(CASE WHEN t.last_failure_at < %s THEN 1 ELSE t.failures + 1 END)"
    free_sql, free_params = _by_key(counters, "t.key", [c.free_failures for c in counters])
    over = f"({failures} - {free_sql})"
    hard_sql, hard_params = _by_key(counters, "t.key", [c.hard_limit for c in counters])
    blocked_until = (
        f"CASE WHEN {failures} >= {hard_sql} THEN %s WHEN {over} <= 0 THEN NULL ELSE {_delay_from('%s', over)} END"
    )
    forget_before = now - forget
    params += [forget_before]  # failures
    params += [forget_before, *hard_params, locked]  # hard limit
    params += [forget_before, *free_params]  # over <= 0
    params += [now, forget_before, *free_params, *_delay_params()]  # the delay
    sql = (
        f"INSERT INTO {TABLE} AS t (key, failures, last_failure_at, blocked_until) VALUES {values} "  # noqa: S608 - our table, parameters bound
        f"ON CONFLICT (key) DO UPDATE SET failures = {failures}, last_failure_at = EXCLUDED.last_failure_at, "
        f"blocked_until = {blocked_until}"
    )
    if open_only:
        sql += " WHERE t.blocked_until IS NULL OR t.blocked_until <= EXCLUDED.last_failure_at"
    sql += " RETURNING key, failures"
    if open_only and len(connection.atomic_blocks) == 1:
        # An attempt's count in its own transaction (throttle.admit): its commit does not wait for the disk
        # (a synchronous commit was about 5 ms of waiting per login). Other processes see it at once all the
        # same: visibility does not wait for the flush, so the throttle stays atomic across processes. A
        # login's own later write (its audit event, its settling) commits durably, which flushes the log up
        # to this count too; otherwise the WAL writer does within a fraction of a second. Only a crash of
        # the database in that window loses the count, and an attempt under check then gets no answer.
        sql += ", set_config('synchronous_commit', 'off', true)"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {key: failures for key, failures, *_setting in cursor.fetchall()}


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
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} {write}", params)
        return cursor.fetchall() if cursor.description else []


def _marks(items: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(items))
