"""The scale benchmark's report (bench/scale.py): latencies per size, its table and its section of docs/benchmarks.md."""

from __future__ import annotations

import argparse
import itertools
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.common import SPREAD
from bench.report import write_section

GOAL = 1.25  # p99 at a size over p99 at 10 k, measured in the same rounds: "flat", within the noise


@dataclass
class Latencies:
    seconds: list[float] = field(default_factory=list)

    def quantile(self, q: int) -> float:
        """The q-th percentile, in milliseconds."""
        cuts = statistics.quantiles(self.seconds, n=100, method="inclusive")
        return 1000 * (statistics.median(self.seconds) if q == 50 else cuts[q - 1])  # noqa: PLR2004


@dataclass
class Size:
    accounts: int
    fill_seconds: float
    database_bytes: int
    load: str
    measured: Latencies
    reference: Latencies
    round_ratios: list[float]  # p50 ratio of each round

    def ratio(self, q: int) -> float:
        return self.measured.quantile(q) / self.reference.quantile(q)


def short_sql(sql: str) -> str:
    """The statement's verb and table, for the report."""
    words = sql.replace('"', "").split()
    verb = words[0].upper()
    table = next((w for prev, w in itertools.pairwise(words) if prev.upper() in {"FROM", "UPDATE", "INTO"}), "?")
    return f"{verb} {table.split('.')[0]}"


# --- the report -----------------------------------------------------------------------------------


def _size_row(s: Size) -> str:
    return (
        f"| {s.accounts:,} | {s.database_bytes / 2**30:.2f} GiB | {s.fill_seconds:.0f} s | "
        f"{len(s.reference.seconds)} / {len(s.measured.seconds)} | "
        f"{s.reference.quantile(50):.1f} → {s.measured.quantile(50):.1f} ms | "
        f"{s.reference.quantile(99):.1f} → {s.measured.quantile(99):.1f} ms | **{s.ratio(99):.2f}** | {s.load} |"
    )


def result_block(args: argparse.Namespace, machine: dict[str, str], sizes: list[Size], plans, sql: str) -> str:
    last = sizes[-1]
    flat = last.ratio(99)
    base = f"{sizes[0].accounts:,}"
    rows = [
        (
            f"| Accounts | Database | Filled in | Logins ({base} / this size) | p50 {base} → this size "
            f"| p99 {base} → this size | p99 ratio (goal ≤ {GOAL:.2f}) | Load before |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---|",
        *(_size_row(s) for s in sizes),
    ]
    notes = [s for s in sizes if max(s.round_ratios) - min(s.round_ratios) > SPREAD * statistics.median(s.round_ratios)]
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        (
            f"{date}, code {machine['code']}; {machine['cpu']}; {machine['os']}; {machine['database']}; "
            f"Python {machine['python']}, Django {machine['django']}."
        ),
        "",
        *rows,
        "",
        (
            f"**Flatness, p99 at {last.accounts:,} / p99 at {base}: {flat:.2f}**, "
            f"{'goal met' if flat <= GOAL else 'goal not met'} (p50: {last.ratio(50):.2f}). "
            f"SQL statements per login: {sql}."
        ),
    ]
    if notes:
        spreads = ", ".join(f"{s.accounts:,}: {min(s.round_ratios):.2f} to {max(s.round_ratios):.2f}" for s in notes)
        lines.append(f"⚠ the p50 ratio moved between rounds ({spreads}): other load disturbed the run.")
    lines += [
        "",
        f"Plans at {last.accounts:,} accounts (EXPLAIN of each statement of one login that reads a table):",
        "",
        "| Statement | Plan |",
        "|---|---|",
        *(f"| `{short_sql(sql)}` | {plan} |" for sql, plan in plans),
        "",
        (
            f"Command: `.venv/bin/python bench/scale.py --sizes {','.join(str(s.accounts) for s in sizes)} "
            f"--seconds {args.seconds:g} --rounds {args.rounds}`"
        ),
    ]
    return "\n".join(lines)


SECTION_HEAD = """## Login latency and the size of the directory (PostgreSQL)

Written by `bench/scale.py` (`make bench-scale`), which rewrites only this section.

**Goal**: flat. p99 of a password login with 5 M accounts at most 1.25 × p99 with 10 k accounts.

**Reference**: the same logins against a copy of the 10 k database, served by a second server
process, measured in the same rounds (the two sides alternate, so both see the same machine).

**Measured**: one single-threaded WSGI server process (`bench/serve.py`, production settings, every
middleware) on a PostgreSQL database grown in place from 10 k to 1 M to 5 M active accounts with
set-based SQL (`INSERT … SELECT generate_series`, one precomputed argon2id hash): for every two
accounts, a pupil and a guardian in the directory, their guardianship, a pupil account and a guardian
account linked to them. `VACUUM (ANALYZE)` after each fill. Latency is timed by the client, one login
at a time (`POST /login` → 302 with a new session), each of an account drawn at random among all of
them; at the largest size EXPLAIN of every statement of one login must show index scans on the large
tables, or the run fails.

Caveats: the server and PostgreSQL share the machine's 2 cores; PostgreSQL runs with its default
`shared_buffers` (128 MB), so at 5 M accounts the indexes live in the operating system's page cache;
the sessions, audit and throttling tables hold only the benchmark's own rows; activation letters are
not created (a login of an active account does not read them).

**How to reproduce**: `make bench-scale` (creates and drops `trousseau_scale_bench` and
`trousseau_scale_bench_ref` on `127.0.0.1:5432`; about 3 GB of disk at 5 M accounts);
`--sizes 10000,1000000` for a shorter run, `--seconds N` sets each side's time at each size.
"""


def write_doc(body: str) -> None:
    write_section("scale.py", SECTION_HEAD, [("scale-postgres", "Result")], "scale-postgres", body)
