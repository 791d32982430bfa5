"""The daily purge (`manage.py purge_expired`) on PostgreSQL with millions of rows, next to one plain DELETE.

Reference: the same expired rows deleted by one `DELETE … WHERE <rule>` per table, all in one transaction
(what a naive purge does: the fastest way, but one long transaction holding every deleted row's lock).
Measured: `purge_expired` (batches of RETENTION_BATCH_SIZE rows, each its own transaction): its total
time and its longest single statement, i.e. the longest any journey could wait behind it on a row.
Both on a throwaway database (`trousseau_retention_bench`, dropped at the end), filled with SQL
`generate_series`: audit events and throttle counters (half past their retention), finished flows with
one code each and settled deliveries (half past theirs).

    .venv/bin/python bench/retention_bench.py [--rows 1000000] [--no-write]

The result goes into docs/benchmarks.md between `<!-- bench/retention_bench.py -->` markers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from import_bench import drop, recreate, write_doc  # noqa: E402 - the bench scripts share their helpers

PG_URL = "postgres://postgres@127.0.0.1:5432/trousseau_retention_bench"
START, END = "<!-- bench/retention_bench.py -->", "<!-- /bench/retention_bench.py -->"
# Each table, how to fill it with n rows (half past retention), and the plain DELETE of the reference.
FILL = {
    "accounts_auditevent": (
        (
            "INSERT INTO accounts_auditevent (tag, data, created_at) SELECT 'account:login:failure', '{{}}', "
            "now() - (CASE WHEN i % 2 = 0 THEN interval '400 days' ELSE interval '10 days' END) "
            "FROM generate_series(1, {n}) AS i"
        ),
        "DELETE FROM accounts_auditevent WHERE created_at < now() - interval '365 days'",
    ),
    "core_throttlecounter": (
        (
            "INSERT INTO core_throttlecounter (key, failures, last_failure_at) SELECT md5(i::text), 3, "
            "now() - (CASE WHEN i % 2 = 0 THEN interval '3 days' ELSE interval '1 hour' END) "
            "FROM generate_series(1, {n}) AS i"
        ),
        "DELETE FROM core_throttlecounter WHERE last_failure_at < now() - interval '1 day' AND blocked_until IS NULL",
    ),
    "flows_flow": (
        (
            "INSERT INTO flows_flow (id, kind, state, created_at, expires_at, failed_attempts, resend_count, context, "
            "session_binding) SELECT gen_random_uuid(), 'lost_password', 'completed', now(), "
            "now() - (CASE WHEN i % 2 = 0 THEN interval '3 days' ELSE interval '1 hour' END), 0, 0, '{{}}', 'b' "
            "FROM generate_series(1, {n}) AS i"
        ),
        "DELETE FROM flows_flow WHERE expires_at < now() - interval '1 day'",
    ),
    "flows_onetimecode": (
        (
            "INSERT INTO flows_onetimecode (flow_id, purpose, phone, code_digest, created_at, expires_at, attempts) "
            "SELECT id, 'lost_password', '+33612345678', 'd', now(), expires_at, 0 FROM flows_flow"
        ),
        (
            "DELETE FROM flows_onetimecode WHERE flow_id IN "
            "(SELECT id FROM flows_flow WHERE expires_at < now() - interval '1 day')"
        ),
    ),
    "notifications_delivery": (
        (
            "INSERT INTO notifications_delivery (channel, recipient, subject, body, state, attempts, next_attempt_at, "
            "last_error, created_at) SELECT 'sms', '+33 •• •• •• 78', '', '', 'sent', 1, now(), '', "
            "now() - (CASE WHEN i % 2 = 0 THEN interval '40 days' ELSE interval '3 days' END) "
            "FROM generate_series(1, {n}) AS i"
        ),
        "DELETE FROM notifications_delivery WHERE state <> 'pending' AND created_at < now() - interval '30 days'",
    ),
}
# The reference deletes codes before their flows (the foreign key), as the purge does.
REFERENCE_ORDER = [
    "flows_onetimecode",
    "flows_flow",
    "notifications_delivery",
    "accounts_auditevent",
    "core_throttlecounter",
]


def sizes(rows: int) -> dict[str, int]:
    return {
        "accounts_auditevent": rows,
        "core_throttlecounter": rows,
        "flows_flow": rows // 4,
        "notifications_delivery": rows // 4,
    }


def fill(url: str, rows: int) -> int:
    with psycopg.connect(url) as conn:
        for table, n in sizes(rows).items():
            conn.execute(FILL[table][0].format(n=n).encode())
        conn.execute(FILL["flows_onetimecode"][0].encode())
        conn.commit()
        conn.execute("ANALYZE")
        return sum(
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for table in FILL
        )


def reference(url: str) -> float:
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for table in REFERENCE_ORDER:
            conn.execute(FILL[table][1].encode())
        conn.commit()
        return time.perf_counter() - started


def purge(url: str) -> tuple[float, float, int, dict[str, int]]:
    """purge_expired in this process; (seconds, longest statement, statements, counts)."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("TROUSSEAU_SECRET_KEY", "bench")
    os.environ["DJANGO_SETTINGS_MODULE"] = "trousseau.settings"
    import django

    django.setup()
    from django.db import connection

    from trousseau.retention import services

    apply = services._apply_in_batches  # noqa: SLF001 - timed per rule, unchanged

    def timed_rule(rule: Any, rows: Any, batch_size: int) -> dict[str, int]:
        started = time.perf_counter()
        done = apply(rule, rows, batch_size)
        if done:
            print(f"  {rule.name}: {sum(done.values()):,} rows in {time.perf_counter() - started:.2f} s")
        return done

    services._apply_in_batches = timed_rule  # noqa: SLF001
    longest = [0.0, 0]

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:  # noqa: FBT001
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            longest[0] = max(longest[0], time.perf_counter() - started)
            longest[1] += 1

    with connection.execute_wrapper(timed):
        started = time.perf_counter()
        counts = services.purge_expired()
        seconds = time.perf_counter() - started
    connection.close()
    return seconds, longest[0], int(longest[1]), counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="audit events (and throttle counters)")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--no-write", action="store_true", help="print the result without writing the doc")
    args = parser.parse_args()
    from import_bench import manage

    try:
        for _ in ("reference", "purge"):  # the same rows, in a fresh database each time
            recreate(args.pg_url)
            manage(args.pg_url, "migrate", "-v0")
            total = fill(args.pg_url, args.rows)
            if _ == "reference":
                ref = reference(args.pg_url)
                print(f"{total:,} rows; reference: one transaction of plain DELETEs, {ref:.1f} s")
        seconds, longest, statements, counts = purge(args.pg_url)
        print(f"purge_expired: {seconds:.1f} s, longest statement {longest * 1000:.0f} ms, {statements} statements")
        print(counts)
    finally:
        drop(args.pg_url)
    from django.conf import settings

    deleted = sum(counts.values())
    body = f"""## Retention purge (`manage.py purge_expired`, PostgreSQL)

**Measured** ({time.strftime("%Y-%m-%d")}, {os.cpu_count()} cores shared, load average {os.getloadavg()[0]:.1f} at the end,
PostgreSQL on the same machine):
about {total:,} rows (audit events, throttle counters, flows with a code each, settled deliveries), half
of them past their retention; {deleted:,} rows deleted.

| | seconds | rows/s | longest statement |
| --- | ---: | ---: | ---: |
| one transaction of plain `DELETE … WHERE <rule>`, one per table (reference) | {ref:.1f} | {deleted / ref:,.0f} | the whole run |
| `purge_expired`, batches of {settings.RETENTION_BATCH_SIZE:,} rows, each its own transaction | {seconds:.1f} | {deleted / seconds:,.0f} | {longest * 1000:,.0f} ms |

The reference is the floor, but it holds the lock of every deleted row until its one commit; the purge
pays a subquery per batch and holds its locks one batch at a time (the longest statement above; {statements:,} statements).

**How to reproduce**: `.venv/bin/python bench/retention_bench.py [--rows N]` (creates and drops
`trousseau_retention_bench` on `127.0.0.1:5432`)."""
    print(body)
    if not args.no_write:
        write_block(body, START, END)


def write_block(body: str, start: str, end: str) -> None:
    import import_bench

    import_bench.START, import_bench.END = start, end
    write_doc(body)


if __name__ == "__main__":
    main()
