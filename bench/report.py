"""The benchmarks' reports: the machine measured, SQL and profiles summed up, docs/benchmarks.md's sections."""

from __future__ import annotations

import contextlib
import os
import platform
import pstats
import re
import subprocess
from pathlib import Path

from bench.common import DOC, ROOT

STEAL_NOTICED = 0.03  # the share of the CPUs' time taken by other guests above which a report flags its run

# --- machine description and the report -----------------------------------------------------------


def describe_machine(database: str) -> dict[str, str]:
    import django
    from django.db import connection

    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    if database == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
        db = f"PostgreSQL {version} ({connection.settings_dict['HOST']}, same machine)"
    else:
        import sqlite3

        db = f"SQLite {sqlite3.sqlite_version} (file in a temporary directory)"
    return {
        "cpu": f"{model}, {cores} cores ({usable} usable)",
        "os": f"{platform.system()} {platform.release()}",
        "load": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "nice": str(os.nice(0)),
        "python": platform.python_version(),
        "django": django.get_version(),
        "argon2": _dist_version("argon2-cffi"),
        "database": db,
        "code": code_version(),
        "ticks": " ".join(str(n) for n in cpu_ticks()),
    }


def cpu_ticks() -> tuple[int, int]:
    """(steal, all) ticks of every CPU since boot (/proc/stat); (0, 0) where the system has none.

    Steal is the time the hypervisor ran other guests while this machine's virtual CPUs had work: it
    does not count in a process's CPU time, but those guests leave the caches cold, and the rounds of
    a run on a shared host differ by more than any change measured here."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0, 0
    if fields[:1] != ["cpu"] or len(fields) < 9:  # noqa: PLR2004 - "cpu" and its first eight counters
        return 0, 0
    counters = [int(value) for value in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return counters[7], sum(counters)


def system_row(machine: dict[str, str]) -> str:
    """The "System" row: the kernel, the load before measuring, and what other guests took during the run
    (from `describe_machine`'s call until now)."""
    text = f"{machine['os']}, load average {machine['load']} before measuring"
    if machine.get("nice", "0") != "0":
        text += f", run at niceness {machine['nice']}"
    steal_then, all_then = (int(n) for n in machine.get("ticks", "0 0").split())
    steal_now, all_now = cpu_ticks()
    if all_now > all_then:
        share = (steal_now - steal_then) / (all_now - all_then)
        text += f"; other guests of the host took {100 * share:.1f} % of this machine's CPU time during the run"
        if share >= STEAL_NOTICED:
            text += " ⚠ (steal: the rounds differ more than usual)"
    return text


def code_version() -> str:
    """The commit measured, and whether the working tree differed from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def shown(ratio: float, goal: float) -> str:
    """`ratio` with two decimals, or with as many more as it takes not to print the goal
    it misses (up to six): 0.4996 for a goal of 0.5 is "0.4996", not "0.50, goal not met"."""
    for digits in range(2, 7):
        text = f"{ratio:.{digits}f}"
        if float(text) != goal or ratio == goal:
            return text
    return text


def sql_summary(queries: list[str]) -> str:
    """'N (+ C commits, S savepoints)': statements doing work, then the transactions around them.

    Django's captured queries on PostgreSQL include BEGIN, COMMIT and savepoints, on SQLite not:
    the statements doing work compare across databases, the commits are what waits for the disk.
    """
    words = [sql.split(None, 1)[0].upper() for sql in queries if sql.strip()]
    work = sum(word not in TRANSACTION_CONTROL for word in words)
    commits, savepoints = words.count("COMMIT"), words.count("SAVEPOINT")
    control = f" (+ {commits} commits, {savepoints} savepoints)" if commits or savepoints else ""
    return f"{work}{control}"


# --- profiles -------------------------------------------------------------------------------------

PACKAGES = [  # (label, path fragment), first match wins
    ("waiting for the database (psycopg wait, sqlite3 commit and execute)", "method 'commit' of 'sqlite3"),
    ("waiting for the database (psycopg wait, sqlite3 commit and execute)", "SQLiteCursorWrapper.execute"),
    ("waiting for the database (psycopg wait, sqlite3 commit and execute)", "psycopg/waiting.py"),
    ("waiting for the database (psycopg wait, sqlite3 commit and execute)", "psycopg/connection.py"),
    ("psycopg (the driver: building and sending queries, reading results)", "/psycopg/"),
    ("RSA signature (cryptography, OpenSSL)", "RSAPrivateKey"),
    ("argon2 (the password hash)", "argon2"),
    ("Django templates", "/django/template/"),
    ("Django sessions and auth", "/django/contrib/"),
    ("Django ORM (query building, model instances)", "/django/db/"),
    ("oauthlib", "/oauthlib/"),
    ("django-oauth-toolkit", "/oauth2_provider/"),
    ("jwcrypto (JWT, JWK)", "/jwcrypto/"),
    ("cryptography (other)", "/cryptography/"),
    ("Trousseau", "/trousseau/"),
    ("Django (other: request, middleware, test client)", "/django/"),
]


def print_by_package(stats: pstats.Stats, profiled: float, count: int) -> None:
    """Own time grouped by where the code lives: what one operation (a login, a cycle) spends its time on."""
    totals: dict[str, float] = {}
    for (filename, _, name), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{name}"
        label = next((label for label, part in PACKAGES if part in where), "other (standard library, builtins)")
        totals[label] = totals.get(label, 0.0) + own
    print("Own time by package, per operation:")
    for label, own in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {1000 * own / count:7.2f} ms  {100 * own / profiled:5.1f} %  {label}")
    print()


# --- docs/benchmarks.md ---------------------------------------------------------------------------

DOC_TITLE = """# Benchmarks

Written by the scripts under `bench/`; do not edit by hand: each script rewrites only its own marked
section, and in it keeps the last result of each variant (database, size). Speed is measured here,
next to a reference taken in the same run on the same machine, never by timed tests (DESIGN.md).
"""
RESULT = re.compile(r"<!-- result:(?P<key>[\w-]+) -->\n(?P<body>.*?)\n<!-- /result:(?P=key) -->", re.DOTALL)


def write_section(script: str, head: str, results: list[tuple[str, str]], key: str, body: str) -> None:
    """Rewrite the section `<!-- bench/SCRIPT -->` of docs/benchmarks.md (appended if missing), nothing else.

    `head` is the section's text up to its results; `results` the (key, title) of each result block,
    in order: `key`'s block becomes `body`, the others keep their last figures.
    """
    start_mark, end_mark = f"<!-- bench/{script} -->", f"<!-- /bench/{script} -->"
    text = DOC.read_text() if DOC.exists() else DOC_TITLE
    start, end = text.find(start_mark), text.find(end_mark)
    old = text[start:end] if 0 <= start < end else ""
    blocks = {m["key"]: m["body"] for m in RESULT.finditer(old)}
    blocks[key] = body
    parts = [start_mark, head]
    for name, title in results:
        parts.append(f"### {title}\n")
        parts.append(f"<!-- result:{name} -->\n{blocks.get(name, 'Not measured yet.')}\n<!-- /result:{name} -->\n")
    section = "\n".join(parts) + end_mark
    text = text[:start] + section + text[end + len(end_mark) :] if old else f"{text.rstrip()}\n\n{section}\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
