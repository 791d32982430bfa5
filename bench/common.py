"""Plumbing shared by the benchmarks under bench/: environment, throwaway databases, the server
process and its clients, accounts (bench/report.py: the machine, profiles, docs/benchmarks.md).

Each benchmark script (run.py, oidc.py, scale.py, memory.py) measures one thing next to its
reference; this module holds what they would otherwise each copy.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench.errors import BenchError
from bench.procfs import process_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "benchmarks.md"
PASSWORD = "Cartable#Violet42"  # noqa: S105 - the benchmark accounts' password
PG_URL = "postgres://postgres@127.0.0.1:5432/trousseau_bench"
SPREAD = 0.25  # largest spread of the per-round ratios, relative to their median, of an undisturbed run
BENCH_SECRET_KEY = "bench-only-secret-key-not-for-any-deployment-0123456789abcdef"  # noqa: S105 - used only when none is set
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def run_main(
    parse_args: Callable[[list[str] | None], argparse.Namespace],
    run: Callable[[argparse.Namespace], None],
    argv: list[str] | None = None,
) -> int:
    """A benchmark's entry point: 0 when it wrote its figures, 1 with the reason when it could not."""
    args = parse_args(argv)
    try:
        run(args)
    except BenchError as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


@dataclass
class Rate:
    count: int
    wall: float  # seconds
    cpu: float | None = None  # seconds of CPU of the process doing the work, when known

    @property
    def per_second(self) -> float:
        return self.count / self.wall

    @property
    def cpu_ms_each(self) -> float | None:
        return None if self.cpu is None else 1000 * self.cpu / self.count

    @property
    def busy(self) -> float | None:
        return None if self.cpu is None else self.cpu / self.wall


# --- settings and database ------------------------------------------------------------------------


def configure_environment(database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The process environment for the parent and the servers: production settings, throwaway DB.

    Production settings want the OpenID Connect and SAML keys given, as a deployment has them: they
    are made in `workdir` (as an operator would with openssl). `extra` adds or overrides
    variables (the public URL, for instance).
    """
    from trousseau.federation.oidc import keyfiles  # reads no Django setting

    for name in (
        "TROUSSEAU_PASSWORD_HASHER",
        "TROUSSEAU_CLIENT_IP_HEADER",
        "REDIS_URL",
        "TROUSSEAU_DB_CONN_MAX_AGE",
        "TROUSSEAU_OIDC_DEV_KEYS",
    ):
        os.environ.pop(name, None)
    from trousseau.federation.saml.keys import _generate as saml_key_pair  # the tests' generator too

    keys_dir = workdir / "oidc-keys"
    keyfiles.load(keys_dir, create=True)
    saml: dict[str, str] = {}
    for use in ("signing", "encryption"):
        directory = workdir / f"saml-{use}"
        if not (directory / "cert.pem").exists():
            directory.mkdir(parents=True, exist_ok=True)
            saml_key_pair(directory, f"Trousseau benchmark IdP {use}")
        saml[f"TROUSSEAU_SAML_{use.upper()}_KEY"] = str(directory / "key.pem")
        saml[f"TROUSSEAU_SAML_{use.upper()}_CERT"] = str(directory / "cert.pem")
    os.environ.setdefault("TROUSSEAU_SECRET_KEY", BENCH_SECRET_KEY)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "trousseau.settings",
            "TROUSSEAU_DEBUG": "0",
            "TROUSSEAU_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "TROUSSEAU_SECURE_COOKIES": "0",
            "TROUSSEAU_LOG_LEVEL": "WARNING",
            "TROUSSEAU_OIDC_KEYS_DIR": str(keys_dir),
            **saml,
            "DATABASE_URL": database_url,
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
            **extra,
        }
    )
    return dict(os.environ)


def add_common_arguments(parser: argparse.ArgumentParser, *, pg_url: str, seconds: float = 10.0) -> None:
    """--seconds, --database, --pg-url, --rounds, --clients, --profile, --no-write: as every benchmark has them."""
    parser.add_argument("--seconds", type=float, default=seconds, help=f"duration of each side (default {seconds:g})")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default=pg_url, help=f"throwaway PostgreSQL database (default {pg_url})")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--clients", type=int, default=2, help="concurrent client connections (default 2)")
    parser.add_argument("--profile", action="store_true", help="profile in-process requests instead; writes nothing")
    parser.add_argument("--no-write", action="store_true", help="print the result without writing the doc")


def database_url(args: argparse.Namespace, workdir: Path) -> str:
    return args.pg_url if args.database == "postgres" else f"sqlite:///{workdir / 'bench.sqlite3'}"


def pg_admin(url: str):
    import psycopg

    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl()
    try:
        return psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL not reachable at {admin}: {exc}") from exc


def _pg_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    # This database is dropped at the end: refuse anything that is not obviously a benchmark's.
    if not re.fullmatch(r"[a-z0-9_]*bench[a-z0-9_]*", name):
        raise BenchError(f"refusing to create and drop database {name!r}: its name must contain 'bench'")
    return name


def pg_create(url: str) -> None:
    name = _pg_name(url)
    with pg_admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_drop(url: str) -> None:
    name = _pg_name(url)
    with pg_admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_accounts(count: int) -> tuple[list[str], str]:
    """`count` active accounts (half pupils, half their guardians) sharing one known password.

    Rows are built by the same services as the demo and the tests; then each account is made active
    with a known password, as activation leaves them. One hash is computed and given to every
    account: verifying it costs the same as verifying a hash of its own, and computing 1000 argon2
    hashes would take longer than the benchmark.
    """
    from datetime import date

    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from trousseau.accounts.models import Account, AccountState
    from trousseau.accounts.services import account_create_for_guardian, account_create_for_pupil
    from trousseau.demo.services import FIRST_NAMES, LAST_NAMES, PARENT_FIRST_NAMES
    from trousseau.directory.models import Guardian, Guardianship, Pupil, School, SchoolLevel

    encoded = make_password(PASSWORD)
    with transaction.atomic():
        school = School.objects.create(
            uai="0999999B", name="Collège du Banc-d'Essai", level=SchoolLevel.COLLEGE, academie="Normandie"
        )
        ids: list[int] = []
        for n in range((count + 1) // 2):
            last = LAST_NAMES[n % len(LAST_NAMES)]
            pupil = Pupil.objects.create(
                ine=f"{n:09d}BE",
                last_name=last,
                first_name=FIRST_NAMES[n % len(FIRST_NAMES)],
                birth_date=date(2011, 1, 1),
                school=school,
                class_name="5e B",
            )
            guardian = Guardian.objects.create(
                last_name=last, first_name=PARENT_FIRST_NAMES[n % len(PARENT_FIRST_NAMES)], mobile=f"+336{n:08d}"
            )
            Guardianship.objects.create(guardian=guardian, pupil=pupil)
            ids.append(account_create_for_pupil(pupil=pupil).pk)
            ids.append(account_create_for_guardian(guardian=guardian).pk)
        ids = ids[:count]
        Account.objects.filter(pk__in=ids).update(
            state=AccountState.ACTIVE, password=encoded, activated_at=timezone.now()
        )
    identifiers = list(Account.objects.filter(pk__in=ids).order_by("pk").values_list("identifier", flat=True))
    if len(identifiers) != count:
        raise BenchError(f"created {len(identifiers)} accounts instead of {count}")
    return identifiers, encoded


# --- the server and its clients -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server in a subprocess (`bench/serve.py` unless `argv` says otherwise), optionally pinned to
    some CPUs; its output goes to a file shown when something fails."""

    def __init__(  # noqa: PLR0913
        self,
        env: dict[str, str],
        workdir: Path,
        *,
        name: str = "server",
        argv: list[str] | None = None,
        port: int | None = None,
        cpus: set[int] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.log = workdir / f"{name}.log"
        self._log_handle = self.log.open("wb")
        self.proc = subprocess.Popen(
            argv or [sys.executable, str(ROOT / "bench" / "serve.py"), str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,  # noqa: PLW1509 - no threads yet
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"the server exited with code {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.1)
        raise BenchError(f"the server did not listen on port {self.port} within {timeout:.0f} s:\n{self.tail()}")

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:]) or "(no output)"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_handle.close()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def cookie(self, name: str) -> str | None:
        for header in self.headers.get_all("Set-Cookie") or []:
            key, _, rest = header.partition("=")
            if key.strip() == name:
                return rest.split(";", 1)[0]
        return None


def request(port: int, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None):
    """One request on a new connection (wsgiref closes each one)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def run_threads(work: Callable[[int], None], count: int) -> None:
    """`work(i)` in `count` threads; the first error stops the run."""
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0] if isinstance(errors[0], BenchError) else BenchError(f"client: {errors[0]!r}")


class Browser:
    """One browser: fetches the mire once for its CSRF cookie and token, then logs in repeatedly.

    Every login is sent without a session cookie, as from a fresh browser, so each one creates a new
    session; the CSRF cookie and token stay valid (the secret lives in the cookie).
    """

    def __init__(self, port: int) -> None:
        self.port = port
        page = self.request("GET", "/login")
        csrf_cookie = page.cookie("csrftoken")
        found = CSRF_INPUT.search(page.body)
        if page.status != 200 or not csrf_cookie or not found:  # noqa: PLR2004
            raise BenchError(f"GET /login: status {page.status}, no CSRF cookie or token in the page")
        self.csrf_cookie = csrf_cookie
        self.csrf_token = found.group(1).decode()

    def request(self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None):
        return request(self.port, method, path, body, headers)

    def login(self, identifier: str) -> str:
        """One full login; returns the new session key, or raises BenchError with what came back."""
        body = urlencode(
            {
                # No "Je suis" profile (scripts, pre-2025 clients): the accounts are half pupils.
                "csrfmiddlewaretoken": self.csrf_token,
                "identifier": identifier,
                "password": PASSWORD,
            }
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={self.csrf_cookie}"}
        resp = self.request("POST", "/login", body, headers)
        session = resp.cookie("sessionid")
        location = resp.headers.get("Location")
        if resp.status != 302 or location != "/compte/" or not session:  # noqa: PLR2004
            error = re.search(rb'class="fr-alert[^"]*"[^>]*>(.*?)</div>', resp.body, re.DOTALL)
            detail = (
                error.group(1).decode(errors="replace").strip() if error else resp.body[:300].decode(errors="replace")
            )
            raise BenchError(
                f"login of {identifier} failed: status {resp.status}, Location {location!r}, "
                f"session cookie {'set' if session else 'missing'}; {detail}"
            )
        return session

    def check_home(self, session: str) -> None:
        """The session a login created opens the account page."""
        status = self.request("GET", "/compte/", headers={"Cookie": f"sessionid={session}"}).status
        if status != 200:  # noqa: PLR2004
            raise BenchError(f"GET /compte/ with a new login's session answered {status}, not 200")


def queries_of_one_login(identifier: str) -> list[str]:
    """The SQL of one login through Django's test client (in this process), for the report."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    with CaptureQueriesContext(connection) as captured:
        resp = client.post("/login", {"identifier": identifier, "password": PASSWORD})
    if resp.status_code != 302 or resp["Location"] != "/compte/":  # noqa: PLR2004
        raise BenchError(f"in-process login of {identifier} failed: status {resp.status_code}")
    return [q["sql"] for q in captured.captured_queries]
