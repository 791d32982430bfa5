"""Password login benchmark: full logins through the real stack against raw argon2id, in one run.

    .venv/bin/python bench/run.py [--seconds N] [--database sqlite|postgres] [--profile]

1. Reference: raw argon2id verifications per second, one thread, with argon2-cffi and the project's
   parameters (`trousseau.accounts.hashers.TrousseauArgon2Hasher`).
2. Measured: full password logins per second through one single-threaded WSGI server process
   (`bench/serve.py`, so one core): POST /login with a CSRF token, each answered by a new session
   and a 302 to /compte/, for active accounts created beforehand in a throwaway database.

Both run on the same machine in the same run; the result goes into docs/benchmarks.md, next to the
goal (full logins >= 0.9 x the raw argon2 rate per core). Any failure (reference unusable, a login not
answered by the redirect, missing sessions) stops the run with a message and a non-zero exit code,
and nothing is written.

`--profile` instead runs logins in-process under cProfile (Django's test client) and prints where
the time goes and the SQL of one login; it writes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import pstats
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path is set
    DOC,
    PASSWORD,
    PG_URL,
    BenchError,
    Browser,
    Rate,
    Server,
    add_common_arguments,
    configure_environment,
    create_accounts,
    database_url,
    pg_create,
    pg_drop,
    queries_of_one_login,
    run_main,
)
from bench.report import describe_machine, print_by_package, sql_summary  # noqa: E402
from bench.run_report import Environment, Measurement, disturbance, result_block, write_doc  # noqa: E402

# --- the accounts' hash and the reference ----------------------------------------------------------


def project_argon2_parameters() -> tuple[int, int, int]:
    from trousseau.accounts.hashers import TrousseauArgon2Hasher as Hasher

    return Hasher.time_cost, Hasher.memory_cost, Hasher.parallelism


# --- the reference --------------------------------------------------------------------------------


class Argon2Reference:
    """Raw argon2id verifications, one thread, argon2-cffi with the project's parameters."""

    def __init__(self, params: tuple[int, int, int]) -> None:
        time_cost, memory_cost, parallelism = params
        try:
            from argon2 import PasswordHasher
            from argon2.exceptions import VerifyMismatchError

            self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
            self.encoded = self.hasher.hash(PASSWORD)
            right = self.hasher.verify(self.encoded, PASSWORD)
        except Exception as exc:
            raise BenchError(f"argon2 reference cannot run: {exc!r}") from exc
        if not right:
            raise BenchError("argon2 reference: the right password did not verify")
        with contextlib.suppress(VerifyMismatchError):
            self.hasher.verify(self.encoded, PASSWORD + "x")
            raise BenchError("argon2 reference: a wrong password verified")

    def run(self, seconds: float) -> Rate:
        verify, encoded = self.hasher.verify, self.encoded
        count = 0
        cpu0 = time.process_time()
        start = time.perf_counter()
        deadline = start + seconds
        now = start
        while now < deadline:
            verify(encoded, PASSWORD)
            count += 1
            now = time.perf_counter()
        return Rate(count, now - start, time.process_time() - cpu0)


# --- the clients ----------------------------------------------------------------------------------


def run_logins(
    browsers: list[Browser], identifiers: list[str], seconds: float, *, offset: int = 0
) -> tuple[Rate, list[str]]:
    """The browsers log in concurrently for `seconds`, so that the single-threaded server never idles.

    Returns the rate (over the wall clock of the whole window) and one session key per login.
    Accounts are taken in turn from `offset` on, so successive windows go on through the list.
    """
    clients = len(browsers)
    sessions: list[list[str]] = [[] for _ in browsers]
    errors: list[BaseException] = []
    stop = threading.Event()
    start = time.perf_counter()
    deadline = start + seconds

    def work(i: int) -> None:
        n = 0
        try:
            while not stop.is_set() and time.perf_counter() < deadline:
                identifier = identifiers[(offset + i + n * clients) % len(identifiers)]
                sessions[i].append(browsers[i].login(identifier))
                n += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    if errors:
        raise errors[0] if isinstance(errors[0], BenchError) else BenchError(f"login client: {errors[0]!r}")
    flat = [key for keys in sessions for key in keys]
    if not flat:
        raise BenchError("no login completed")
    return Rate(len(flat), wall), flat


def check_database(expected_sessions: int, expected_logins: int) -> None:
    """Every login left its session and its audit event: nothing was answered without doing the work."""
    from django.contrib.sessions.models import Session

    from trousseau.audit.events import EventTag
    from trousseau.audit.models import AuditEvent

    sessions = Session.objects.count()
    events = AuditEvent.objects.filter(tag=EventTag.LOGIN_SUCCESS).count()
    if sessions != expected_sessions or events != expected_logins:
        raise BenchError(
            f"database check: {sessions} sessions (expected {expected_sessions}), "
            f"{events} login audit events (expected {expected_logins})"
        )


# --- orchestration --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_common_arguments(parser, pg_url=PG_URL)
    parser.add_argument("--accounts", type=int, default=1000, help="active accounts to create (default 1000)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or min(args.accounts, args.clients, args.rounds) < 1:
        parser.error("--seconds, --rounds, --accounts and --clients must be positive")
    return args


def profile(identifiers: list[str], seconds: float) -> None:
    from django.test import Client

    queries = queries_of_one_login(identifiers[0])
    print(f"SQL of one login ({sql_summary(queries)} statements):")
    for sql in queries:
        print(f"  {sql[:160]}")
    profiler = cProfile.Profile()
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    profiler.enable()
    while time.perf_counter() < deadline:
        resp = Client().post(
            "/login", {"identifier": identifiers[(count + 1) % len(identifiers)], "password": PASSWORD}
        )
        if resp.status_code != 302:  # noqa: PLR2004
            raise BenchError(f"in-process login failed: status {resp.status_code}")
        count += 1
    profiler.disable()
    profiled = time.perf_counter() - start
    print(f"\n{count} in-process logins profiled; own time by package, then top functions:")
    stats = pstats.Stats(profiler)
    print_by_package(stats, profiled, count)
    stats.strip_dirs()
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(30)


def prepare_database(
    args: argparse.Namespace, db_url: str, params: tuple[int, int, int], cleanup: contextlib.ExitStack
) -> list[str]:
    """Create (PostgreSQL) and migrate the throwaway database, then the active accounts."""
    from django.core.management import call_command
    from django.db import connections

    if args.database == "postgres":
        pg_create(db_url)
        cleanup.callback(pg_drop, db_url)
    cleanup.callback(connections.close_all)  # runs before the drop
    call_command("migrate", verbosity=0)
    print(f"Creating {args.accounts} active accounts ...", flush=True)
    identifiers, encoded = create_accounts(args.accounts)
    t, m, p = params
    if not encoded.startswith(f"argon2$argon2id$v=19$m={m},t={t},p={p}$"):
        raise BenchError(f"the accounts' hash does not use the reference's parameters: {encoded[:40]}")
    return identifiers


def _total(parts: list[Rate]) -> Rate:
    cpus = [part.cpu for part in parts]
    cpu = None if None in cpus else sum(c for c in cpus if c is not None)
    return Rate(sum(part.count for part in parts), sum(part.wall for part in parts), cpu)


def measure(
    args: argparse.Namespace, env_vars: dict[str, str], workdir: Path, identifiers: list[str], ref: Argon2Reference
) -> Measurement:
    """Reference and logins in alternating slices, so both see the same machine (other load, heat)."""
    server = Server(env_vars, workdir)
    sessions: list[str] = []
    try:
        server.wait_ready()
        browsers = [Browser(server.port) for _ in range(args.clients)]
        # Warm-up outside the windows: imports, templates, the database connection, the first hash.
        warm = [browsers[i % len(browsers)].login(identifiers[-1 - i]) for i in range(5)]
        browsers[0].check_home(warm[-1])
        ref.run(0.5)
        ref_parts: list[Rate] = []
        login_parts: list[Rate] = []
        piece = args.seconds / args.rounds
        for n in range(args.rounds):
            ref_part = ref.run(piece)
            cpu0 = server.cpu_seconds()
            login_part, keys = run_logins(browsers, identifiers, piece, offset=len(sessions))
            login_part.cpu = server.cpu_seconds() - cpu0
            sessions += keys
            ref_parts.append(ref_part)
            login_parts.append(login_part)
            print(
                f"  round {n + 1}/{args.rounds}: argon2 {ref_part.per_second:5.1f}/s, "
                f"logins {login_part.per_second:5.1f}/s, ratio {login_part.per_second / ref_part.per_second:.2f}",
                flush=True,
            )
        browsers[0].check_home(sessions[-1])
    except BenchError as exc:
        server.stop()
        raise BenchError(f"{exc}\nServer output (last lines):\n{server.tail()}") from exc
    finally:
        server.stop()
    if len(set(sessions + warm)) != len(sessions + warm):
        raise BenchError("two logins returned the same session key")
    ratios = [log.per_second / ref.per_second for ref, log in zip(ref_parts, login_parts, strict=True)]
    return Measurement(_total(ref_parts), _total(login_parts), ratios, len(warm) + len(sessions))


def run(args: argparse.Namespace) -> None:
    with contextlib.ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="trousseau-bench-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        db_url = database_url(args, workdir)
        env_vars = configure_environment(db_url, workdir)
        import django
        from django.db import connections

        django.setup()
        params = project_argon2_parameters()
        if args.profile:
            profile(prepare_database(args, db_url, params, cleanup), args.seconds)
            return

        ref = Argon2Reference(params)  # fails early when argon2 cannot run
        identifiers = prepare_database(args, db_url, params, cleanup)
        queries = sql_summary(queries_of_one_login(identifiers[-1]))
        machine = describe_machine(args.database)
        connections.close_all()  # the server process has the database to itself

        print(
            f"Measuring: {args.rounds} rounds of {args.seconds / args.rounds:g} s raw argon2id verify, "
            f"then {args.seconds / args.rounds:g} s of logins through the server ...",
            flush=True,
        )
        result = measure(args, env_vars, workdir, identifiers, ref)
        check_database(expected_sessions=result.made + 1, expected_logins=result.made + 1)  # + the in-process one
        disturbed = disturbance(result)
        if disturbed:
            print(
                f"bench: WARNING: other load disturbed the run ({disturbed}); rerun on a quiet machine", file=sys.stderr
            )

        env = Environment(args.database, args.seconds, args.accounts, args.clients, args.rounds, machine)
        body = result_block(env, result, params, queries)
        print(f"\n{body}")
        if not args.no_write:
            write_doc(f"login-{args.database}", body)
            print(f"\nWritten to {DOC.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    return run_main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
