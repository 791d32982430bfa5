"""Import of an académie (1 M pupils, 2 M guardian links) on PostgreSQL, next to raw COPY of the same rows.

Reference: PostgreSQL's own `COPY … FROM STDIN (FORMAT csv)` of the two files into plain tables with
the same column types (no checks, no keys but the INE): the floor any import of these rows pays.
Measured: `manage.py import_records --pupils … --guardians …` (row checks in Python, COPY into staging
tables, set-based upserts, departures, bulk identifiers and provisional accounts), then the same
files again (the idempotent re-import a nightly sync does). Both run on the same machine in the same
run, on a throwaway database (`trousseau_import_bench`, dropped at the end).

    .venv/bin/python bench/import_bench.py [--pupils 1000000] [--no-write]

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
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
WORK = ROOT / "var" / "bench" / "import"
PG_URL = "postgres://postgres@127.0.0.1:5432/trousseau_import_bench"
NAMES = ["Martin", "Bernard", "Dupont", "N'Diaye", "Lefèvre", "Nguyen", "Da Silva", "Garcia", "Roux", "Benali"]
FIRST = ["Léa", "Hugo", "Chloé", "Inès", "Nathan", "Zoé", "Adam", "Manon", "Yanis", "Élodie", "Théo"]
SCHOOLS = 1000  # a third écoles (no pupil accounts), the rest collèges and lycées
START, END = "<!-- bench/import_bench.py -->", "<!-- /bench/import_bench.py -->"


def uai(n: int) -> str:
    return f"{9000000 + n:07d}{'ABCDEFGHJKLMNPRSTUVWXYZ'[n % 23]}"


def write_files(pupils: int) -> tuple[Path, Path]:
    WORK.mkdir(parents=True, exist_ok=True)
    p, g = WORK / "eleves.csv", WORK / "responsables.csv"
    with p.open("w", encoding="utf-8", newline="") as fp, g.open("w", encoding="utf-8", newline="") as fg:
        fp.write("INE;NOM;PRENOM;DATE_NAISS;CLASSE;UAI\r\n")
        fg.write("ID_RESPONSABLE;NOM;PRENOM;TEL_PORTABLE;COURRIEL;INE_ELEVE;RESP_LEGAL\r\n")
        for n in range(pupils):
            ine = f"{n:09d}AB"
            last = NAMES[n % len(NAMES)]
            birth = f"{1 + n % 28:02d}/{1 + n % 12:02d}/{2006 + n % 12}"
            fp.write(f"{ine};{last};{FIRST[n % len(FIRST)]};{birth};C{n % 6};{uai(n % SCHOOLS)}\r\n")
            for k in range(2):
                first = FIRST[(n + k + 4) % len(FIRST)]
                fg.write(f"R{n}-{k};{last};{first};06{(2 * n + k) % 10**8:08d};;{ine};{1 + k}\r\n")
    return p, g


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


def manage(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "TROUSSEAU_SECRET_KEY": os.environ.get("TROUSSEAU_SECRET_KEY", "bench")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    return done.stdout


def add_schools(url: str) -> None:
    with (
        psycopg.connect(url) as conn,
        conn.cursor().copy("COPY directory_school (uai, name, level, academie) FROM STDIN") as copy,
    ):
        for n in range(SCHOOLS):
            level = "ecole" if n % 3 == 0 else "college" if n % 3 == 1 else "lycee"
            copy.write_row((uai(n), f"Établissement {n}", level, "Bench"))


def raw_copy(url: str, pupils: Path, guardians: Path) -> float:
    """The reference: COPY of both files into plain typed tables, one transaction."""
    with psycopg.connect(url) as conn:
        conn.execute("SET DateStyle = 'ISO, DMY'")
        conn.execute(
            "CREATE TABLE ref_pupil (ine varchar(11) PRIMARY KEY, nom varchar(100), prenom varchar(100), "
            "date_naiss date, classe varchar(20), uai varchar(8))"
        )
        conn.execute(
            "CREATE TABLE ref_guardian (id_responsable varchar(100), nom varchar(100), prenom varchar(100), "
            "tel_portable varchar(20), courriel varchar(254), ine_eleve varchar(11), resp_legal smallint)"
        )
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            for table, path in (("ref_pupil", pupils), ("ref_guardian", guardians)):
                with (
                    cur.copy(f"COPY {table} FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true)") as copy,
                    path.open("rb") as handle,
                ):
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE ref_pupil, ref_guardian")
        conn.commit()
    return seconds


def timed_import(url: str, pupils: Path, guardians: Path) -> tuple[float, str]:
    started = time.perf_counter()
    out = manage(url, "import_records", "--pupils", str(pupils), "--guardians", str(guardians))
    return time.perf_counter() - started, out


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for table in ("directory_pupil", "directory_guardian", "directory_guardianship", "accounts_account")
        }


def write_doc(body: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = f"{START}\n{body}\n{END}\n"
    if START in text:
        text = re.sub(re.escape(START) + r".*?" + re.escape(END) + r"\n?", lambda _: block, text, flags=re.DOTALL)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pupils", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--no-write", action="store_true", help="print the result without writing the doc")
    args = parser.parse_args()
    print(f"writing {args.pupils} pupils and {2 * args.pupils} guardian rows under {WORK}")
    pupils, guardians = write_files(args.pupils)
    size = (pupils.stat().st_size + guardians.stat().st_size) / 1e6
    recreate(args.pg_url)
    try:
        manage(args.pg_url, "migrate", "-v0")
        add_schools(args.pg_url)
        reference = raw_copy(args.pg_url, pupils, guardians)
        print(f"raw COPY: {reference:.1f} s")
        first, out = timed_import(args.pg_url, pupils, guardians)
        print(f"import: {first:.1f} s\n{out}")
        rows = counts(args.pg_url)
        again, out2 = timed_import(args.pg_url, pupils, guardians)
        print(f"same files again: {again:.1f} s\n{out2}")
    finally:
        drop(args.pg_url)
    total = 3 * args.pupils
    body = f"""## Académie import (`manage.py import_records`, PostgreSQL)

**Measured** ({time.strftime("%Y-%m-%d")}, {os.cpu_count()} cores, PostgreSQL on the same machine):
{args.pupils:,} pupils in {SCHOOLS} schools and {2 * args.pupils:,} guardian links ({size:.0f} MB of CSV), on an empty
directory. Written: {rows["directory_pupil"]:,} pupils, {rows["directory_guardian"]:,} guardians,
{rows["directory_guardianship"]:,} links, {rows["accounts_account"]:,} provisional accounts.

| | seconds | rows/s | × raw COPY |
| --- | ---: | ---: | ---: |
| raw `COPY` of the two files into plain tables (reference) | {reference:.1f} | {total / reference:,.0f} | 1.0 |
| `import_records`, first import | {first:.1f} | {total / first:,.0f} | {first / reference:.1f} |
| `import_records`, same files again (nothing changes) | {again:.1f} | {total / again:,.0f} | {again / reference:.1f} |

**Where the time goes** (cProfile of 100 000 pupils, same files, 35 s): a fifth in Python reading and
checking the rows (CSV parsing, dates, INE, phone numbers, guardian keys), two fifths in creating the
accounts (identifiers drawn in bulk and checked in batches, then COPY into `accounts_account` with
its unique indexes), the rest in the set-based upserts and in PostgreSQL checking the deferred
foreign keys at commit. Raw COPY does none of this: no checks, no keys, no accounts. The re-import
pays the reading and checking and the comparisons, and writes nothing.

**How to reproduce**: `.venv/bin/python bench/import_bench.py [--pupils N]` (creates and drops
`trousseau_import_bench` on `127.0.0.1:5432`; the files go to `var/bench/import/`)."""
    print(body)
    if not args.no_write:
        write_doc(body)


if __name__ == "__main__":
    main()
