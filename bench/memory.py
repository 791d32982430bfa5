"""Resident memory of a web worker: `bench/serve.py` and a gunicorn sync worker, before and after requests.

    .venv/bin/python bench/memory.py [--requests N] [--database postgres|sqlite]

Goal: a web worker stays at or under 150 MB resident after serving logins, SAML and OpenID Connect.

Reference: the same process right after `django.setup()` (serve.py once it listens; the gunicorn
worker once it has loaded the application), before any request: what the code and its libraries
cost before serving. Measured: VmRSS (and PSS, which shares the pages common with other processes
between them) from /proc/PID/status and /proc/PID/smaps_rollup after a warm-up (a few requests of
each kind: every view, template and library they need loaded), then after N more of each: a password
login through the mire, an IdP-initiated SAML SSO answered with a signed, encrypted assertion for a
registered service provider, and an OpenID Connect authorization code redeemed at the token endpoint
followed by userinfo. Growth between the last two says whether serving leaks.

The result goes into its own marked section of docs/benchmarks.md. Any failure (gunicorn missing, an
answer not as expected) stops the run with a message and a non-zero exit code, and nothing is written.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path is set
    PG_URL,
    BenchError,
    Server,
    configure_environment,
    create_accounts,
    free_port,
    pg_create,
    pg_drop,
    request,
    run_main,
)
from bench.oidc_clients import TrousseauSide, User  # noqa: E402
from bench.oidc_processes import register_client  # noqa: E402
from bench.procfs import process_rss_kib  # noqa: E402
from bench.report import (  # noqa: E402
    describe_machine,
    write_section,
)

MEMORY_PG_URL = PG_URL.rsplit("/", 1)[0] + "/trousseau_memory_bench"
GOAL_MB = 150
GUNICORN = Path(sys.executable).parent / "gunicorn"
SP_ENTITY_ID = "https://ent.bench.example/saml/metadata.xml"


def pss_kib(pid: int) -> int | None:
    """Proportional set size (shared pages divided among their users), when the kernel reports it."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return None


@dataclass
class Reading:
    rss: int  # KiB
    pss: int | None

    @classmethod
    def of(cls, pid: int) -> Reading:
        return cls(process_rss_kib(pid), pss_kib(pid))

    def __str__(self) -> str:
        pss = f" (PSS {self.pss / 1024:.0f} MB)" if self.pss is not None else ""
        return f"{self.rss / 1024:.0f} MB{pss}"


@dataclass
class Worker:
    label: str
    setup: Reading
    warm: Reading
    served: Reading
    requests: int  # of each kind after the warm-up


# --- the service provider and the requests --------------------------------------------------------


def register_sp(workdir: Path) -> str:
    """A SAML SP (pysaml2's client side, as the tests use it) registered for IdP-initiated SSO, encrypted."""
    from tests.federation.saml.sp import PySamlSP
    from trousseau.federation.saml.services import sp_register

    sp = PySamlSP(workdir / "sp", entity_id=SP_ENTITY_ID, base="https://ent.bench.example")
    sp_register(
        sp.metadata(), name="ENT du banc d'essai", release_children=True, encrypt=True, allow_idp_initiated=True
    )
    return sp.acs


def saml_sso(side: TrousseauSide, user: User, acs: str) -> None:
    path = "/idp/profile/SAML2/Unsolicited/SSO?" + urlencode({"providerId": SP_ENTITY_ID, "target": "/bench"})
    resp = request(side.port, "GET", path, headers=user.cookie_header())
    user.keep_cookies(resp)
    page = resp.body.decode(errors="replace")
    if resp.status != 200 or 'name="SAMLResponse"' not in page or acs not in page:  # noqa: PLR2004
        raise BenchError(f"SAML SSO answered {resp.status} without a SAMLResponse for the SP: {page[:300]}")


def serve_requests(side: TrousseauSide, count: int, acs: str) -> None:
    """`count` of each: a password login, an IdP-initiated SAML SSO, an OIDC code -> token + userinfo."""
    user = side.users[0]
    for _ in range(count):
        side.login(User(user.login))  # a fresh browser: the mire, a new session
        saml_sso(side, user, acs)
        side.cycle(user, side.authorize(user))


# --- the two kinds of worker ----------------------------------------------------------------------


GUNICORN_CONFIG = """
from pathlib import Path


def post_worker_init(worker):
    # The worker has loaded the application (django.setup() done): the benchmark may read its memory.
    Path({marker!r}).write_text(str(worker.pid))
"""


def gunicorn_server(env_vars: dict[str, str], workdir: Path, port: int) -> Server:
    config = workdir / "gunicorn_bench.py"
    config.write_text(GUNICORN_CONFIG.format(marker=str(workdir / "gunicorn-worker.pid")))
    argv = [str(GUNICORN), "trousseau.wsgi:application", "-c", str(config), "-w", "1", "-k", "sync"]
    return Server(env_vars, workdir, name="gunicorn", port=port, argv=[*argv, "-b", f"127.0.0.1:{port}"])


def worker_pid(server: Server) -> int:
    """gunicorn's one worker, once it has loaded the application (its post_worker_init hook says so)."""
    marker = server.log.parent / "gunicorn-worker.pid"
    deadline = time.monotonic() + 60
    while not marker.exists():
        if time.monotonic() > deadline or server.proc.poll() is not None:
            raise BenchError("the gunicorn worker did not finish loading the application")
        time.sleep(0.1)
    return int(marker.read_text())


@dataclass
class Load:
    """What each worker serves: these accounts, this many requests of each kind, for this SP."""

    identifiers: list[str]
    count: int
    acs: str


def measure(label: str, server: Server, pid_of: Callable[[Server], int], load: Load) -> Worker:
    identifiers, count, acs = load.identifiers, load.count, load.acs
    try:
        server.wait_ready()
        pid = pid_of(server)
        setup = Reading.of(pid)  # listening, django.setup() done, no request yet
        side = TrousseauSide(server, f"http://127.0.0.1:{server.port}", [User(identifiers[0])])
        side.discover()
        side.login(side.users[0])
        serve_requests(side, 5, acs)
        warm = Reading.of(pid)
        serve_requests(side, count, acs)
        served = Reading.of(pid)
        replaced = pid_of(server) != pid
    except BenchError as exc:
        raise BenchError(f"{exc}\n{label} output (last lines):\n{server.tail()}") from exc
    finally:
        server.stop()
    if replaced:
        raise BenchError(f"{label}: the worker was replaced during the run")
    print(f"  {label}: after setup {setup}, warm {warm}, after {count} of each {served}", flush=True)
    return Worker(label, setup, warm, served, count)


# --- the report -----------------------------------------------------------------------------------


def result_block(args: argparse.Namespace, machine: dict[str, str], workers: list[Worker]) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        (
            "| Worker | Reference: after `django.setup()`, no request | After warm-up (5 of each) | "
            f"After {workers[0].requests} more of each | Growth while serving | Goal ≤ {GOAL_MB} MB |"
        ),
        "|---|---:|---:|---:|---:|---|",
    ]
    for w in workers:
        met = "met" if w.served.rss / 1024 <= GOAL_MB else "**not met**"
        rows.append(
            f"| {w.label} | {w.setup} | {w.warm} | **{w.served}** | "
            f"{(w.served.rss - w.warm.rss) / 1024:+.1f} MB | {met} |"
        )
    return "\n".join(
        [
            (
                f"{date}, code {machine['code']}; {machine['cpu']}; {machine['os']}; {machine['database']}; "
                f"Python {machine['python']}, Django {machine['django']}, gunicorn {machine['gunicorn']}."
            ),
            "",
            *rows,
            "",
            f"Command: `.venv/bin/python bench/memory.py --requests {args.requests} --database {args.database}`",
        ]
    )


SECTION_HEAD = """## Resident memory of a web worker

Written by `bench/memory.py` (`make bench-memory`), which rewrites only this section.

**Goal**: a web worker stays at or under 150 MB resident while serving.

**Reference**: the same process right after `django.setup()`, before any request (`bench/serve.py`
once it listens; the gunicorn worker once it has loaded the application): the code and libraries.

**Measured**: VmRSS from `/proc/PID/status` (and PSS from `smaps_rollup`: shared pages divided among
the processes sharing them, so what one more worker costs) of one `bench/serve.py` process, then of
the one sync worker of `gunicorn trousseau.wsgi -w 1` (production settings, the throwaway database),
after a warm-up of 5 requests of each kind, then after N more of each: a password login through the
mire (a new browser each time), an IdP-initiated SAML SSO answered with a signed and encrypted
assertion, an OpenID Connect code redeemed at the token endpoint followed by userinfo.

**How to reproduce**: `make bench-memory` (PostgreSQL, creates and drops `trousseau_memory_bench`),
or `.venv/bin/python bench/memory.py --database sqlite --requests N`.
"""


def write_doc(key: str, body: str) -> None:
    results = [("memory-postgres", "PostgreSQL"), ("memory-sqlite", "SQLite")]
    write_section("memory.py", SECTION_HEAD, results, key, body)


# --- orchestration --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=300, help="requests of each kind after warm-up (300)")
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pg-url", default=MEMORY_PG_URL, help=f"throwaway database (default {MEMORY_PG_URL})")
    parser.add_argument("--no-write", action="store_true", help="print the result without writing the doc")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be positive")
    return args


def run(args: argparse.Namespace) -> None:
    if not GUNICORN.exists():
        raise BenchError(f"gunicorn is not installed at {GUNICORN}: the gunicorn worker cannot be measured")
    with contextlib.ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="trousseau-bench-memory-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        db_url = args.pg_url if args.database == "postgres" else f"sqlite:///{workdir / 'bench.sqlite3'}"
        port = free_port()  # one public URL for both servers, in turn: the SP's metadata names it
        env_vars = configure_environment(db_url, workdir, TROUSSEAU_PUBLIC_URL=f"http://127.0.0.1:{port}")
        import django
        from django.core.management import call_command
        from django.db import connections

        django.setup()
        if args.database == "postgres":
            pg_create(db_url)
            cleanup.callback(pg_drop, db_url)
        cleanup.callback(connections.close_all)
        call_command("migrate", verbosity=0)
        identifiers, _ = create_accounts(2)
        register_client()
        acs = register_sp(workdir)
        machine = describe_machine(args.database)
        from importlib.metadata import version

        machine["gunicorn"] = version("gunicorn")
        connections.close_all()

        load = Load(identifiers, args.requests, acs)
        print(f"Measuring: warm-up, then {args.requests} logins, SAML SSOs and OIDC cycles per worker ...", flush=True)
        workers = [
            measure(
                "`bench/serve.py` (wsgiref, one process)",
                Server(env_vars, workdir, name="serve", port=port),
                lambda server: server.proc.pid,
                load,
            ),
            measure(
                "gunicorn 1 sync worker (the worker; its master apart)",
                gunicorn_server(env_vars, workdir, port),
                worker_pid,
                load,
            ),
        ]
        body = result_block(args, machine, workers)
        print(f"\n{body}")
        if not args.no_write:
            write_doc(f"memory-{args.database}", body)
            print("\nWritten to docs/benchmarks.md")


def main(argv: list[str] | None = None) -> int:
    return run_main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
