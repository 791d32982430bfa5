"""A small Trousseau cluster on this machine: web processes behind nginx, one PostgreSQL database, Redis.

The scale-out tests (tests/scaleout) and the load test (bench/load.py) both run on it:

    with Cluster.start(processes=2, accounts=40) as cluster:
        cluster.url                 # nginx, round robin over the processes
        cluster.processes[0].kill() # SIGKILL its gunicorn master and worker

Each web process is gunicorn with `deploy/gunicorn.conf.py` and one sync worker, production settings
(`TROUSSEAU_DEBUG=0`) on a throwaway PostgreSQL database that `bench/seed.py` migrates and fills with
active accounts; REDIS_URL is the cache (when Redis answers); nginx runs from
`deploy/nginx/trousseau.conf.template` as the current user, its pid, logs and temporary files in a
temporary directory. nginx trusts the X-Forwarded-For of loopback clients (`trust_forwarded_for`), as
it would an outer load balancer's, so that each simulated person can come from an address of their
own; `drain` takes a process out of the rotation before a graceful stop. Everything is stopped and the
database dropped on leaving the `with`. docs/scale-out.md tells the whole demo.
"""

from __future__ import annotations

import contextlib
import getpass
import grp
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "trousseau.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
PG_SERVER = os.environ.get("TROUSSEAU_CLUSTER_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("TROUSSEAU_CLUSTER_REDIS", "redis://127.0.0.1:6379/0")
SECRET_KEY = "cluster-only-secret-key-not-for-any-deployment-0123456789abcdef"  # noqa: S105 - throwaway cluster
PASSWORD = "Cartable#Violet42"  # noqa: S105 - every seeded account's password (bench/common.py's)
CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
RETRY_DOWN_AFTER = 1  # seconds nginx leaves a process alone after it refused a connection (nginx: 10)


class ClusterError(Exception):
    """The cluster could not start: say what failed, with the logs' last lines."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_unreachable(server: str = PG_SERVER) -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        psycopg.connect(f"{server}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        return f"PostgreSQL not reachable at {server}: {str(exc).strip()}"
    return None


def redis_reachable(url: str = REDIS_URL) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _admin(server: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5)


@contextlib.contextmanager
def throwaway_database(prefix: str, server: str = PG_SERVER) -> Iterator[str]:
    """A new empty database named `<prefix>_<pid>`, dropped on leaving; yields its URL."""
    if not re.fullmatch(r"[a-z0-9_]+", prefix):
        raise ClusterError(f"unsafe database name prefix {prefix!r}")
    name = f"{prefix}_{os.getpid()}"
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with _admin(server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def web_environment(database_url: str, workdir: Path, public_url: str) -> dict[str, str]:
    """What every web process of the cluster shares: production settings, one database, one Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TROUSSEAU_", "DJANGO_", "REDIS_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "trousseau.settings",
            "DATABASE_URL": database_url,
            "TROUSSEAU_SECRET_KEY": SECRET_KEY,
            "TROUSSEAU_DEBUG": "0",
            "TROUSSEAU_PUBLIC_URL": public_url,
            "TROUSSEAU_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "TROUSSEAU_SECURE_COOKIES": "0",  # plain HTTP on loopback
            "TROUSSEAU_CLIENT_IP_HEADER": CLIENT_IP_HEADER,
            "TROUSSEAU_LOG_LEVEL": "WARNING",
            # Keys every process shares, made once by bench/seed.py before any process starts.
            "TROUSSEAU_OIDC_KEYS_DIR": str(workdir / "oidc"),
            "TROUSSEAU_OIDC_DEV_KEYS": "1",
            "TROUSSEAU_SAML_DEV_KEYS": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    if redis_reachable():  # the cache (FranceConnect's keys); without it each process keeps its own
        env["REDIS_URL"] = REDIS_URL
    return env


@dataclass(frozen=True)
class SeededAccount:
    identifier: str
    kind: str  # "pupil" or "guardian"
    phone: str  # the mobile a school recorded (guardians), else ""


def seed(env: dict[str, str], accounts: int) -> list[SeededAccount]:
    """Migrate the cluster's database and create active accounts (bench/seed.py, in a subprocess)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "seed.py"), str(accounts)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ClusterError(f"bench/seed.py failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return [SeededAccount(**row) for row in json.loads(done.stdout)]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        return [int(child) for child in path.read_text().split()]
    return []


def wait_listening(port: int, *, alive: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive.poll() is not None:
            raise ClusterError(f"{alive.args!r} exited with code {alive.returncode}:\n{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise ClusterError(f"nothing listened on port {port} within {timeout:.0f} s:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


@dataclass
class WebProcess:
    """One gunicorn master with one sync worker, on its own port."""

    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            # The production conf (deploy/gunicorn.conf.py), one sync worker per process here.
            self.proc = subprocess.Popen(
                [GUNICORN, "-c", str(GUNICORN_CONF)],
                cwd=ROOT,
                env={**self.env, "TROUSSEAU_BIND": self.address, "TROUSSEAU_WORKERS": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_listening(self.port, alive=self.proc, log=self.log)
        self._wait_serving()

    def _wait_serving(self, timeout: float = 120) -> None:
        """The master listens before its worker has loaded Django: wait for a first page."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                conn.request("GET", "/login")
                if conn.getresponse().status == 200:  # noqa: PLR2004
                    return
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.2)
        raise ClusterError(f"{self.address} served no page within {timeout:.0f} s:\n{tail(self.log)}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the master and its worker at once: a machine or container lost, nothing cleaned up."""
        if self.proc is None:
            return
        pids = [self.proc.pid, *_children(self.proc.pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()

    def terminate(self, timeout: float = 40) -> None:
        """SIGTERM, gunicorn's graceful stop: the worker finishes the request it is serving."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Nginx:
    port: int
    run_dir: Path
    servers: list[str]
    trust_forwarded_for: bool
    proc: subprocess.Popen[bytes] | None = None
    down: set[str] = field(default_factory=set)  # servers taken out of the rotation (`down`)

    @property
    def conf(self) -> Path:
        return self.run_dir / "nginx.conf"

    def write_conf(self) -> None:
        user = ""
        if os.geteuid() == 0:  # nginx's workers would otherwise drop to `nobody`, who cannot write run_dir
            user = f"user {getpass.getuser()} {grp.getgrgid(os.getegid()).gr_name};"
        trusted = "set_real_ip_from 127.0.0.1;\n    real_ip_header X-Forwarded-For;" if self.trust_forwarded_for else ""
        fields = {
            "USER": user,
            "RUN_DIR": str(self.run_dir),
            "PORT": str(self.port),
            "SERVERS": "\n".join(
                f"        server {server} fail_timeout={RETRY_DOWN_AFTER}s{' down' if server in self.down else ''};"
                for server in self.servers
            ),
            "TRUSTED_PROXIES": trusted,
        }
        text = NGINX_TEMPLATE.read_text()
        text = re.sub(r"@([A-Z_]+)@", lambda m: fields[m.group(1)], text)
        self.conf.write_text(text)

    def start(self) -> None:
        self.write_conf()
        log = self.run_dir / "error.log"
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.run_dir), "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=log.open("ab"),
        )
        wait_listening(self.port, alive=self.proc, log=log)

    def reload(self, down: set[str]) -> None:
        """New configuration, same nginx (SIGHUP): old workers finish their requests, new ones take over."""
        self.down = down
        self.write_conf()
        if self.proc is not None:
            self.proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # nginx's graceful shutdown
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


DRAIN_SETTLE_SECONDS = 1.0  # far longer than a request; the backlog of a drained process empties in it


@dataclass
class Cluster:
    url: str
    database_url: str
    workdir: Path
    processes: list[WebProcess]
    nginx: Nginx
    accounts: list[SeededAccount] = field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        *,
        processes: int = 2,
        accounts: int = 20,
        database_prefix: str = "trousseau_cluster",
        trust_forwarded_for: bool = True,
    ) -> Iterator[Cluster]:
        """Database, accounts, `processes` gunicorn processes and nginx; all gone on leaving."""
        if not Path(NGINX).exists():
            raise ClusterError(f"nginx not found at {NGINX} (`make nginx` installs Debian's)")
        with contextlib.ExitStack() as stack:
            workdir = Path(tempfile.mkdtemp(prefix="trousseau-cluster-"))
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
            database_url = stack.enter_context(throwaway_database(database_prefix))
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = web_environment(database_url, workdir, url)
            seeded = seed(env, accounts)
            web = [WebProcess(free_port(), env, workdir / f"web{n}.log") for n in range(processes)]
            for process in web:
                stack.callback(process.kill)
                process.start()
            nginx = Nginx(port, workdir, [p.address for p in web], trust_forwarded_for)
            stack.callback(nginx.stop)
            nginx.start()
            yield cls(url, database_url, workdir, web, nginx, seeded)

    def drain(self, process: WebProcess, timeout: float = 30) -> None:
        """Take a process out of nginx's rotation, as before a graceful stop; back once nginx sends it nothing."""
        self.nginx.reload(self.nginx.down | {process.address})
        deadline = time.monotonic() + timeout
        others = 0
        while others < 2 * len(self.processes) and time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", self.nginx.port, timeout=timeout)
            try:
                conn.request("GET", "/login")
                served = conn.getresponse().getheader("X-Served-By", "")
            finally:
                conn.close()
            others = 0 if process.address in served else others + 1
        if others < 2 * len(self.processes):
            raise ClusterError(f"nginx still sends requests to {process.address} after {timeout:.0f} s")
        # Requests nginx handed it before the reload may still wait in its listen backlog: a stop now would
        # drop them (a POST comes back 502). Operators wait for these to be served before the SIGTERM.
        time.sleep(DRAIN_SETTLE_SECONDS)

    def undrain(self) -> None:
        self.nginx.reload(set())

    def logs(self) -> str:
        """The last lines of every log, for a failure message."""
        parts = [f"--- {p.log.name}\n{tail(p.log)}" for p in self.processes]
        parts.append(f"--- nginx error.log\n{tail(self.workdir / 'error.log')}")
        return "\n".join(parts)

    def latest_sms_code(self, phone: str) -> str | None:
        """The code in the last SMS the dev outbox holds for this phone, as the phone would show it."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT body FROM notifications_outboxmessage WHERE channel = 'sms' AND \"to\" = %s "
                "ORDER BY created_at DESC, id DESC LIMIT 1",
                [phone],
            ).fetchone()
        found = re.search(r"\b(\d{6})\b", str(row[0])) if row else None
        return found.group(1) if found else None
