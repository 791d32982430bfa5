"""Import of an académie (1 M pupils, 2 M guardian links) in SIECLE's format on PostgreSQL, next to raw COPY.

The académie is written as SIECLE exports it: one pair of zips per school (`ElevesSansAdresses.xml`, root
`BEE_ELEVES`, and `ResponsablesAvecAdresses.xml`, root `BEE_RESPONSABLES`, ISO-8859-15), 1000 collèges and
lycées, two legal guardians per pupil. The same rows are also written as CSV (pupils, persons, links).

Reference: PostgreSQL's own `COPY … FROM STDIN (FORMAT csv)` of those three CSV files into plain tables
with the same column types (no checks, no keys but the identifiers): what moving these bytes costs.
Database floor: the rows the first import wrote (pupils, guardians, links, accounts and their guardians),
COPYed back straight into the real tables, emptied, with their real indexes, foreign keys and triggers, in
one transaction up to its commit: what any import of these rows must at least pay. Measured: `manage.py import_records --pupils <zips> --guardians <zips>` (reading the XML, the row
checks, staging, set-based upserts, departures, identifiers and provisional accounts), then the same
files again (the idempotent re-import a nightly sync does), with the peak RSS of each import process.
Everything runs on the same machine in the same run, on a throwaway database (`trousseau_import_bench`,
dropped at the end).

    .venv/bin/python bench/import_bench.py [--pupils 100000 300000 1000000] [--no-write] [--profile]

The result goes into docs/benchmarks.md between `<!-- bench/import_bench.py -->` markers (bench/run.py owns
the rest of that file).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.siecle_files import SCHOOLS, Files, change_mobiles, uai, write_files  # noqa: E402 - after the path is set

DOC = ROOT / "docs" / "benchmarks.md"
WORK = ROOT / "var" / "bench" / "import"
PG_URL = "postgres://postgres@127.0.0.1:5432/trousseau_import_bench"
CHANGED = 10  # schools whose files change between two nights (1 %)
START, END = "<!-- bench/import_bench.py -->", "<!-- /bench/import_bench.py -->"


def admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def recreate(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def manage(url: str, *args: str, python: list[str] | None = None) -> tuple[str, float, int]:
    """Runs manage.py; returns its output, its wall time and its peak RSS in bytes (os.wait4's ru_maxrss)."""
    env = {"TROUSSEAU_SECRET_KEY": "bench", "TROUSSEAU_OIDC_DEV_KEYS": "1", **os.environ, "DATABASE_URL": url}
    out, err = WORK / "manage.out", WORK / "manage.err"
    started = time.perf_counter()
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [*(python or [sys.executable]), str(ROOT / "manage.py"), *args], env=env, stdout=stdout, stderr=stderr
        )
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"manage.py {' '.join(args[:1])} failed:\n{out.read_text()}\n{err.read_text()[-3000:]}")
    return out.read_text(), seconds, usage.ru_maxrss * 1024


def add_schools(url: str) -> None:
    with (
        psycopg.connect(url) as conn,
        conn.cursor().copy(
            "COPY directory_school (uai, name, level, academie, contact_phone, contact_email, contact_hours) FROM STDIN"
        ) as copy,
    ):
        for n in range(SCHOOLS):
            copy.write_row((uai(n), f"Établissement {n}", "college" if n % 2 else "lycee", "Bench", "", "", ""))


REFERENCE_TABLES = {
    "ref_pupil": "eleve_id varchar(20) PRIMARY KEY, ine varchar(11), last_name varchar(100), "
    "first_name varchar(100), birth_date date, class_name varchar(20), uai varchar(8)",
    "ref_person": "personne_id varchar(20) PRIMARY KEY, last_name varchar(100), first_name varchar(100), "
    "mobile varchar(20), email varchar(254)",
    "ref_link": "eleve_id varchar(20), personne_id varchar(20), resp_legal smallint",
}


def raw_copy(url: str, files: Files) -> float:
    """The reference: COPY of the same rows as CSV into plain typed tables, one transaction."""
    with psycopg.connect(url) as conn:
        for table, columns in REFERENCE_TABLES.items():
            conn.execute(f"CREATE TABLE {table} ({columns})")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            for table, path in files.csv.items():
                with cur.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy, path.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE ref_pupil, ref_person, ref_link")
        conn.commit()
    return seconds


# The tables an import writes, in an order their foreign keys allow (each references only those before it).
FINAL_TABLES = (
    "directory_pupil",
    "directory_guardian",
    "directory_guardianship",
    "accounts_account",
    "accounts_accountguardian",
)


def keep_final_rows(url: str, pupils: int) -> dict[str, Path]:
    """The rows the first import wrote, every column with its id, in PostgreSQL's binary COPY format."""
    kept = {table: WORK / f"final-{pupils}-{table}.copy" for table in FINAL_TABLES}
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for table, path in kept.items():
            with cur.copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy, path.open("wb") as handle:
                for chunk in copy:
                    handle.write(chunk)
    return kept


def database_floor(url: str, kept: dict[str, Path], *, set_based: bool = False) -> float:
    """The same final rows COPYed straight into the real tables, emptied first, in one transaction.

    Their real indexes, constraints and triggers stay: the unique indexes, Django's foreign keys (deferred,
    so checked row by row at the commit, which is timed) and the LastImport triggers. No import of these
    rows can pay less than this: it is what is left once reading, checking and comparing cost nothing.
    `set_based`: the foreign keys are checked as provisioning/fk_checks.py does on a first import, by one
    anti-join per key after the COPY (session_replication_role = replica skips the per-row triggers).
    """
    with psycopg.connect(url) as conn:
        conn.execute(f"TRUNCATE {', '.join(FINAL_TABLES)}, directory_lastimport CASCADE")
        conn.commit()
        conn.execute("CHECKPOINT")  # the imports' dirty pages are not this run's to write
        started = time.perf_counter()
        if set_based:
            conn.execute("SET LOCAL session_replication_role = replica")
        with conn.cursor() as cur:
            for table, path in kept.items():
                with cur.copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy, path.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
        if set_based:
            _check_keys(conn)
        conn.commit()
        return time.perf_counter() - started


def _check_keys(conn: psycopg.Connection[Any]) -> None:
    """Every foreign key of the written tables, checked by one anti-join each."""
    keys = conn.execute(
        """SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, f.attname
             FROM pg_constraint c
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = c.confkey[1]
            WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)""",
        [list(FINAL_TABLES)],
    ).fetchall()
    for table, column, target, key in keys:
        (missing,) = conn.execute(
            f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL "  # noqa: S608 (catalogue names)
            f"AND NOT EXISTS (SELECT 1 FROM {target} r WHERE r.{key} = t.{column})"
        ).fetchone()  # type: ignore[misc]
        if missing:
            raise SystemExit(f"{table}.{column}: {missing} rows reference no {target}")


def import_args(files: Files) -> list[str]:
    return ["import_records", "--pupils", *map(str, files.pupils), "--guardians", *map(str, files.guardians)]


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for table in ("directory_pupil", "directory_guardian", "directory_guardianship", "accounts_account")
        }


@dataclass
class Measure:
    pupils: int
    xml_mb: float
    zip_mb: float
    reference: float
    first: float
    again: float
    first_rss: int
    again_rss: int
    rows: dict[str, int]
    nightly: float  # the same files but CHANGED schools' guardians files, each with one mobile changed
    reread: float  # the same files again with --reread-unchanged: every row read, checked and compared
    reread_rss: int
    floor: float  # the first import's final rows COPYed into the real tables (database_floor)
    floor_set: float  # the same, foreign keys checked by one anti-join each


def measure(pupils: int, url: str, *, profile: bool) -> Measure:
    print(f"writing {pupils} pupils and {2 * pupils} guardian links in {SCHOOLS} pairs of SIECLE zips under {WORK}")
    files = write_files(pupils, WORK / str(pupils))
    recreate(url)
    try:
        manage(url, "migrate", "-v0")
        add_schools(url)
        reference = raw_copy(url, files)
        print(f"raw COPY: {reference:.1f} s")
        python = None
        if profile:
            python = [sys.executable, "-m", "cProfile", "-o", str(WORK / f"import-{pupils}.prof")]
        out, first, first_rss = manage(url, *import_args(files), python=python)
        print(f"import: {first:.1f} s, peak RSS {first_rss / 1e6:.0f} MB\n{out}")
        rows = counts(url)
        kept = keep_final_rows(url, pupils)
        if profile:
            python = [sys.executable, "-m", "cProfile", "-o", str(WORK / f"again-{pupils}.prof")]
        out, again, again_rss = manage(url, *import_args(files), python=python)
        print(f"same files again: {again:.1f} s, peak RSS {again_rss / 1e6:.0f} MB\n{out}")
        change_mobiles(files, CHANGED)
        out, nightly, _ = manage(url, *import_args(files))
        print(f"{CHANGED} schools changed: {nightly:.1f} s\n{out}")
        out, reread, reread_rss = manage(url, *import_args(files), "--reread-unchanged")
        print(f"read anyway: {reread:.1f} s, peak RSS {reread_rss / 1e6:.0f} MB\n{out}")
        floor = database_floor(url, kept)
        print(f"database floor (final rows COPYed into the real tables): {floor:.1f} s")
        floor_set = database_floor(url, kept, set_based=True)
        print(f"database floor, foreign keys checked set-based: {floor_set:.1f} s")
        for path in kept.values():
            path.unlink()
    finally:
        drop(url)
    return Measure(
        pupils,
        files.xml_bytes / 1e6,
        files.zip_bytes / 1e6,
        reference,
        first,
        again,
        first_rss,
        again_rss,
        rows,
        nightly,
        reread,
        reread_rss,
        floor,
        floor_set,
    )


def write_doc(body: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = f"{START}\n{body}\n{END}\n"
    if START in text:
        text = re.sub(re.escape(START) + r".*?" + re.escape(END) + r"\n?", lambda _: block, text, flags=re.DOTALL)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    DOC.write_text(text)


def report(results: list[Measure]) -> str:
    big = results[-1]
    total = 5 * big.pupils  # pupils, persons, links
    measured = (
        f"**Measured** ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, PostgreSQL on the same machine): "
        f"{big.pupils:,} pupils in {SCHOOLS} collèges and lycées, each with two legal guardians "
        f"({2 * big.pupils:,} persons, {2 * big.pupils:,} links), as {2 * SCHOOLS} SIECLE zips "
        f"(`ElevesSansAdresses.xml`, `ResponsablesAvecAdresses.xml`, ISO-8859-15: {big.zip_mb:.0f} MB zipped, "
        f"{big.xml_mb:.0f} MB of XML), on an empty directory. Written: {big.rows['directory_pupil']:,} pupils, "
        f"{big.rows['directory_guardian']:,} guardians, {big.rows['directory_guardianship']:,} links, "
        f"{big.rows['accounts_account']:,} provisional accounts."
    )
    reference = (
        f"| raw `COPY` of the same rows as CSV into plain tables (reference) | {big.reference:.1f} | "
        f"{total / big.reference:,.0f} | 1.0 | |"
    )
    floor = (
        "| the first import's final rows (pupils, guardians, links, accounts and their guardians) COPYed into "
        f"the real tables, indexes, constraints and triggers on (database floor) | {big.floor:.1f} | "
        f"{total / big.floor:,.0f} | {big.floor / big.reference:.1f} | |"
    )
    floor_set = (
        "| the same, foreign keys checked by one anti-join each after the COPY instead of row by row at the "
        f"commit (database floor of the set-based checks) | {big.floor_set:.1f} | {total / big.floor_set:,.0f} | "
        f"{big.floor_set / big.reference:.1f} | |"
    )
    first = (
        f"| `import_records`, first import ({big.first / big.floor:.1f} × the floor) | {big.first:.1f} | "
        f"{total / big.first:,.0f} | {big.first / big.reference:.1f} | {big.first_rss / 1e6:,.0f} MB |"
    )
    again = (
        f"| `import_records`, same files again (every school left out: nothing changed) | {big.again:.1f} | "
        f"{total / big.again:,.0f} | {big.again / big.reference:.1f} | {big.again_rss / 1e6:,.0f} MB |"
    )
    nightly = (
        f"| `import_records`, a night when {CHANGED} schools' files changed (one mobile each) | {big.nightly:.1f} | "
        f"{total / big.nightly:,.0f} | {big.nightly / big.reference:.1f} | |"
    )
    reread = (
        f"| `import_records --reread-unchanged`, same files read anyway | {big.reread:.1f} | "
        f"{total / big.reread:,.0f} | {big.reread / big.reference:.1f} | {big.reread_rss / 1e6:,.0f} MB |"
    )
    lines = [
        "## Académie import in SIECLE's format (`manage.py import_records`, PostgreSQL)",
        "",
        measured,
        "",
        "| | seconds | rows/s | × raw COPY | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: |",
        reference,
        floor,
        floor_set,
        first,
        again,
        nightly,
        reread,
        "",
        "By size (same run; memory is the import process's peak resident set, `ru_maxrss`):",
        "",
        (
            "| pupils | raw COPY s | floor / set-based s (× COPY) | first import s (× COPY) | again s (× COPY) | "
            f"{CHANGED} changed s (× COPY) | read anyway s (× COPY) | peak RSS first / read anyway |"
        ),
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {m.pupils:,} | {m.reference:.1f} | {m.floor:.1f} / {m.floor_set:.1f} ({m.floor / m.reference:.1f} / "
        f"{m.floor_set / m.reference:.1f}) | "
        f"{m.first:.1f} ({m.first / m.reference:.1f}) | "
        f"{m.again:.1f} ({m.again / m.reference:.1f}) | {m.nightly:.1f} ({m.nightly / m.reference:.1f}) | "
        f"{m.reread:.1f} ({m.reread / m.reference:.1f}) | "
        f"{m.first_rss / 1e6:,.0f} / {m.reread_rss / 1e6:,.0f} MB |"
        for m in results
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--pupils", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--no-write", action="store_true", help="print the result without writing the doc")
    parser.add_argument("--profile", action="store_true", help="cProfile both imports (var/bench/import/*.prof)")
    parser.add_argument(
        "--notes",
        type=Path,
        default=Path(__file__).with_name("import_bench_notes.md"),
        help="a Markdown file appended to the result (where the time goes; update it from a --profile run)",
    )
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results = [measure(n, args.pg_url, profile=args.profile) for n in sorted(args.pupils)]
    body = report(results)
    if args.notes and args.notes.exists():
        body += "\n\n" + args.notes.read_text().strip()
    print(body)
    if not args.no_write:
        write_doc(body)


if __name__ == "__main__":
    main()
