"""Login latency against the size of the directory: 10 k, 1 M and 5 M accounts in PostgreSQL, in one run.

    .venv/bin/python bench/scale.py [--sizes 10000,1000000,5000000] [--seconds N] [--rounds N]

Goal: flat. A login looks up one account by its identifier and writes a few rows; none of it should
grow with the number of accounts (indexes, no scans), so p99 at 5 M stays the p99 at 10 k.

Reference: the same logins, measured in the same rounds, against a copy of the 10 k database (the
first size), served by a second server process; the sides alternate, so both see the same machine.
Measured: one server (`bench/serve.py`, production settings, every middleware) on a database grown
in place from one size to the next with set-based SQL (INSERT … SELECT generate_series, one
precomputed argon2id hash): for every two accounts, a pupil and a guardian in the directory, their
guardianship, a pupil account and a guardian account linked to them, all active. Between sizes the
database is vacuumed and analysed, as autovacuum would leave it. Latency is timed by the client, one
login at a time (no queueing in the figure), from the request to the last byte of the answer; each
login is of an account drawn at random among all of them, so that the indexes are read where they
are cold too. At the largest size, EXPLAIN of every statement of one login must show index scans on
the large tables, or the run fails.

The result goes into its own marked section of docs/benchmarks.md. Any failure (PostgreSQL not
reachable, a login not answered by its redirect, a plan scanning a large table) stops the run with a
message and a non-zero exit code, and nothing is written.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path is set
    PASSWORD,
    PG_URL,
    BenchError,
    Browser,
    Server,
    configure_environment,
    pg_admin,
    pg_create,
    pg_drop,
    queries_of_one_login,
    run_main,
)
from bench.report import (  # noqa: E402
    TRANSACTION_CONTROL,
    describe_machine,
    sql_summary,
)
from bench.scale_report import Latencies, Size, result_block, write_doc  # noqa: E402

SCALE_PG_URL = PG_URL.rsplit("/", 1)[0] + "/trousseau_scale_bench"
LARGE_TABLES = ("accounts_account", "accounts_accountguardian", "directory_pupil", "directory_guardian")
SAMPLE = 5000  # accounts drawn at random for the logins of one size
LAST_NAMES = [
    "martin", "bernard", "thomas", "petit", "robert", "richard", "durand", "dubois", "moreau", "laurent",
    "simon", "michel", "lefebvre", "leroy", "roux", "david", "bertrand", "morel", "fournier", "girard",
    "bonnet", "dupont", "lambert", "fontaine", "rousseau", "vincent", "muller", "lefevre", "faure", "andre",
]  # fmt: skip
FIRST_NAMES = ["emma", "louise", "jade", "gabriel", "leo", "raphael", "arthur", "alice", "chloe", "lucas"]
PARENT_NAMES = ["nathalie", "isabelle", "sylvie", "philippe", "christophe", "stephane", "laurent", "sandrine"]


# --- filling the directory ------------------------------------------------------------------------

# Every column of these tables, so that a migration adding a NOT NULL column stops the benchmark
# (check_schema) instead of making it measure a schema that no longer exists.
COLUMNS = {
    "directory_school": [
        "id", "uai", "name", "level", "academie", "contact_email", "contact_hours", "contact_phone",
    ],
    "directory_pupil": [
        "id", "ine", "last_name", "first_name", "birth_date", "class_name", "school_id", "left_at", "source_id",
    ],
    "directory_guardian": [
        "id", "last_name", "first_name", "mobile", "email", "left_at", "school_id", "source_key",
        "mobile_fixed_at", "source_id",
    ],
    "directory_guardianship": ["id", "is_legal_representative", "guardian_id", "pupil_id"],
    "accounts_account": [
        "id", "password", "last_login", "identifier", "kind", "state", "first_name", "last_name", "email",
        "email_verified_at", "activated_at", "created_at", "pupil_id", "merged_into_id", "phone",
        "phone_verified_at", "franceconnect_sub", "reset_link_issued_at", "pending_email",
    ],
    "accounts_accountguardian": ["id", "account_id", "guardian_id"],
}  # fmt: skip

# Pupil n (and guardian n, guardianship n) for n in (start, end]; pupil n's account is 2n - 1, its
# guardian's 2n. Names cycle through short lists; identifiers end with the account's id, so unique.
FILL = [
    """INSERT INTO directory_pupil (id, ine, last_name, first_name, birth_date, class_name, school_id, left_at,
                                    source_id)
       SELECT n, lpad(n::text, 9, '0') || 'SC', initcap((%(last)s::text[])[1 + n %% %(nl)s]),
              initcap((%(first)s::text[])[1 + n %% %(nf)s]), date '2010-01-01' + (n %% 1500), '5e B', 1, NULL, ''
       FROM generate_series(%(start)s + 1, %(end)s) AS n""",
    """INSERT INTO directory_guardian (id, last_name, first_name, mobile, email, left_at, school_id, source_key,
                                       mobile_fixed_at, source_id)
       SELECT n, initcap((%(last)s::text[])[1 + n %% %(nl)s]), initcap((%(parent)s::text[])[1 + n %% %(np)s]),
              '+336' || lpad(n::text, 8, '0'), '', NULL, NULL, '', NULL, ''
       FROM generate_series(%(start)s + 1, %(end)s) AS n""",
    """INSERT INTO directory_guardianship (id, is_legal_representative, guardian_id, pupil_id)
       SELECT n, true, n, n FROM generate_series(%(start)s + 1, %(end)s) AS n""",
    """INSERT INTO accounts_account (id, password, last_login, identifier, kind, state, first_name, last_name,
              email, email_verified_at, activated_at, created_at, pupil_id, merged_into_id, phone,
              phone_verified_at, franceconnect_sub, reset_link_issued_at, pending_email)
       SELECT a.id, %(hash)s, NULL, lower(left(a.first_name, 1)) || '.' || lower(a.last_name) || a.id, a.kind,
              'active', a.first_name, a.last_name, '', NULL, now(), now(), a.pupil_id, NULL, '', NULL, NULL, NULL, ''
       FROM (SELECT 2 * p.id - 1 AS id, 'pupil' AS kind, p.first_name, p.last_name, p.id AS pupil_id
               FROM directory_pupil p WHERE p.id > %(start)s AND p.id <= %(end)s
             UNION ALL
             SELECT 2 * g.id, 'guardian', g.first_name, g.last_name, NULL
               FROM directory_guardian g WHERE g.id > %(start)s AND g.id <= %(end)s) AS a""",
    """INSERT INTO accounts_accountguardian (id, account_id, guardian_id)
       SELECT n, 2 * n, n FROM generate_series(%(start)s + 1, %(end)s) AS n""",
]


def check_schema(cursor) -> None:
    for table, columns in COLUMNS.items():
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
        actual = [row[0] for row in cursor.fetchall()]
        if sorted(actual) != sorted(columns):
            raise BenchError(
                f"{table} has the columns {actual}, bench/scale.py fills {columns}: update the benchmark's SQL"
            )


def fill(pairs_before: int, pairs_after: int, encoded: str) -> float:
    """Grow the directory from `pairs_before` to `pairs_after` pupil-guardian pairs; returns seconds."""
    from django.db import connection

    params = {
        "start": pairs_before,
        "end": pairs_after,
        "hash": encoded,
        "last": LAST_NAMES,
        "nl": len(LAST_NAMES),
        "first": FIRST_NAMES,
        "nf": len(FIRST_NAMES),
        "parent": PARENT_NAMES,
        "np": len(PARENT_NAMES),
    }
    start = time.perf_counter()
    with connection.cursor() as cursor:
        check_schema(cursor)
        if pairs_before == 0:
            cursor.execute(
                "INSERT INTO directory_school (id, uai, name, level, academie, contact_email, contact_hours, "
                "contact_phone) VALUES (1, '0999998C', 'Collège de la Grande-Échelle', 'college', 'Normandie', "
                "'', '', '')"
            )
        cursor.execute("SET synchronous_commit = off")  # the fill only: nothing measured depends on it
        for sql in FILL:
            cursor.execute(sql, params)
        cursor.execute("SET synchronous_commit = on")
        for table in COLUMNS:  # identities past the filled ids, as if the rows had been created one by one
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608 - our table names
            )
        cursor.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - start


def database_size(url: str) -> int:
    with pg_admin(url) as conn:
        row = conn.execute("SELECT pg_database_size(%s)", [urlsplit(url).path.lstrip("/")]).fetchone()
    return int(row[0]) if row else 0


def sample_identifiers(count: int) -> list[str]:
    """`count` identifiers of accounts drawn at random (with replacement) among all of them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM accounts_account")
        top = int(cursor.fetchone()[0])
        ids = [1 + secrets.randbelow(top) for _ in range(count)]
        cursor.execute("SELECT id, identifier FROM accounts_account WHERE id = ANY(%s)", [ids])
        by_id = dict(cursor.fetchall())
    if len(by_id) != len(set(ids)):
        raise BenchError("some drawn accounts are missing: the fill left holes")
    return [by_id[i] for i in ids]


# --- measuring ------------------------------------------------------------------------------------


def timed_logins(browser: Browser, identifiers: list[str], seconds: float, into: Latencies) -> int:
    """One login at a time for `seconds`, each timed by the client; returns how many were made."""
    made = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        identifier = identifiers[len(into.seconds) % len(identifiers)]
        start = time.perf_counter()
        browser.login(identifier)
        into.seconds.append(time.perf_counter() - start)
        made += 1
    return made


def measure_size(
    args: argparse.Namespace, big: Browser, ref: Browser, identifiers: tuple[list[str], list[str]]
) -> tuple[Latencies, Latencies, list[float]]:
    """Alternating rounds, reference first: the same machine for both sides."""
    measured, reference = Latencies(), Latencies()
    ratios: list[float] = []
    big_ids, ref_ids = identifiers
    for browser, ids in ((ref, ref_ids), (big, big_ids)):  # warm-up: connections, imports, first pages
        for identifier in ids[-10:]:
            browser.login(identifier)
    piece = args.seconds / args.rounds
    for n in range(args.rounds):
        r0, m0 = len(reference.seconds), len(measured.seconds)
        timed_logins(ref, ref_ids, piece, reference)
        timed_logins(big, big_ids, piece, measured)
        ratios.append(statistics.median(measured.seconds[m0:]) / statistics.median(reference.seconds[r0:]))
        print(
            f"    round {n + 1}/{args.rounds}: p50 {1000 * statistics.median(reference.seconds[r0:]):.1f} ms "
            f"(reference) / {1000 * statistics.median(measured.seconds[m0:]):.1f} ms",
            flush=True,
        )
    return measured, reference, ratios


# --- the plans ------------------------------------------------------------------------------------


def explain_login(identifier: str) -> list[tuple[str, str]]:
    """(statement, its plan's scans) for every statement of one login that reads a table.

    The benchmark's own tables (sessions, throttling counters) hold a few hundred rows, which the
    planner rightly scans; each such statement is explained again with sequential scans disabled, to
    show the index a full table would use. A sequential scan left then, or any on a large table,
    fails the run.
    """
    from django.db import connection

    plans: list[tuple[str, str]] = []
    for sql in queries_of_one_login(identifier):
        if sql.split(None, 1)[0].upper() in TRANSACTION_CONTROL or sql.upper().startswith("INSERT"):
            continue  # an INSERT reads no table (its unique checks are index lookups by construction)
        scans = _scans(connection, sql)
        if any(f"Seq Scan on {table}" in scan for table in LARGE_TABLES for scan in scans):
            raise BenchError(f"a login's statement scans a large table:\n{sql}\n" + "; ".join(scans))
        plan = "; ".join(scans)
        if any("Seq Scan" in scan for scan in scans):
            with connection.cursor() as cursor:
                cursor.execute("SET enable_seqscan = off")
            try:
                forced = _scans(connection, sql)
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("SET enable_seqscan = on")
            if any("Seq Scan" in scan for scan in forced):
                raise BenchError(f"a login's statement has no index to use:\n{sql}\n" + "; ".join(forced))
            plan += f" (a few rows); on a large table: {'; '.join(forced)}"
        plans.append((sql, plan))
    return plans


def _scans(connection, sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        lines = [str(row[0]).strip().removeprefix("->").strip() for row in cursor.fetchall()]
    return [line.split("  (")[0] for line in lines if "Scan" in line] or [lines[0].split("  (")[0]]


# --- orchestration --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,1000000,5000000", help="accounts at each step, growing")
    parser.add_argument("--seconds", type=float, default=20.0, help="each side's time at each size (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds at each size (default 5)")
    parser.add_argument("--pg-url", default=SCALE_PG_URL, help=f"throwaway database (default {SCALE_PG_URL})")
    parser.add_argument("--no-write", action="store_true", help="print the result without writing the doc")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error("--sizes: accounts at each step, e.g. 10000,1000000,5000000")
    if args.sizes != sorted(set(args.sizes)) or args.sizes[0] < 1000 or any(s % 2 for s in args.sizes):  # noqa: PLR2004
        parser.error("--sizes must grow, be even and start at 1000 accounts or more")
    if args.seconds <= 0 or args.rounds < 1:
        parser.error("--seconds and --rounds must be positive")
    return args


def run(args: argparse.Namespace) -> None:  # noqa: PLR0915 - the run, step by step
    ref_url = args.pg_url + "_ref"
    with contextlib.ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="trousseau-bench-scale-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        env_vars = configure_environment(args.pg_url, workdir)
        import django
        from django.contrib.auth.hashers import make_password
        from django.core.management import call_command
        from django.db import connections

        django.setup()
        pg_create(args.pg_url)
        cleanup.callback(pg_drop, args.pg_url)
        cleanup.callback(pg_drop, ref_url)
        cleanup.callback(connections.close_all)  # runs before the drops
        call_command("migrate", verbosity=0)
        encoded = make_password(PASSWORD)
        machine = describe_machine("postgres")

        first = args.sizes[0]
        print(f"Filling {first:,} accounts ...", flush=True)
        fill_seconds = {first: fill(0, first // 2, encoded)}
        ref_ids = sample_identifiers(SAMPLE)
        connections.close_all()
        with pg_admin(ref_url) as conn:  # the reference: a copy of the first size
            name, source = (urlsplit(u).path.lstrip("/") for u in (ref_url, args.pg_url))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')

        servers = [
            Server(env_vars, workdir, name="measured"),
            Server(env_vars | {"DATABASE_URL": ref_url}, workdir, name="reference"),
        ]
        cleanup.callback(lambda: [server.stop() for server in servers])
        sizes: list[Size] = []
        try:
            for server in servers:
                server.wait_ready()
            big, ref = (Browser(server.port) for server in servers)
            pairs = first // 2
            for accounts in args.sizes:
                if accounts // 2 > pairs:
                    print(f"Filling up to {accounts:,} accounts ...", flush=True)
                    fill_seconds[accounts] = fill(pairs, accounts // 2, encoded)
                    pairs = accounts // 2
                big_ids = sample_identifiers(SAMPLE)
                connections.close_all()
                load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
                print(f"  {accounts:,} accounts: measuring (load average {load}) ...", flush=True)
                measured, reference, ratios = measure_size(args, big, ref, (big_ids, ref_ids))
                sizes.append(
                    Size(
                        accounts, fill_seconds[accounts], database_size(args.pg_url), load, measured, reference, ratios
                    )
                )
            plans = explain_login(big_ids[0])
            sql = sql_summary(queries_of_one_login(big_ids[1]))
        except BenchError as exc:
            logs = "".join(f"\n{s.log.stem} server output (last lines):\n{s.tail()}" for s in servers)
            raise BenchError(f"{exc}{logs}") from exc
        body = result_block(args, machine, sizes, plans, sql)
        print(f"\n{body}")
        if not args.no_write:
            write_doc(body)
            print("\nWritten to docs/benchmarks.md")


def main(argv: list[str] | None = None) -> int:
    return run_main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
