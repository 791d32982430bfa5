"""Start and stop the FranceConnect stand-in (../../franceconnect-standin, panva oidc-provider) for tests.

`npm ci` runs first when its node_modules are missing (under a file lock: xdist workers may race).
The tests are skipped, saying why, on a machine without Node.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from joserfc.jwk import ECKey, RSAKey

STANDIN_DIR = Path(__file__).resolve().parents[2] / "franceconnect-standin"
CLIENT_ID = "trousseau-tests"
CLIENT_SECRET = "trousseau-tests-secret-for-the-stand-in-0123456789"
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class StandIn:
    issuer: str
    client_id: str
    client_secret: str
    log: Path

    @property
    def origin(self) -> str:
        return self.issuer.removesuffix("/api/v2")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _install(npm: str) -> None:
    with (STANDIN_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (STANDIN_DIR / "node_modules" / "oidc-provider").is_dir():
            subprocess.run(  # noqa: S603 - fixed arguments
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=STANDIN_DIR, check=True, timeout=300
            )


def _write_keys(path: Path) -> None:
    """The stand-in's signing keys, made here so that its start does no key generation (server.mjs reads
    this file when it exists): one start in a CI run of 2026-12-07 never reached `listen` in 30 s, twice."""
    if path.exists():
        return
    keys = [
        {**ECKey.generate_key("P-256").as_dict(private=True), "kid": "pkcs11:ES256:hsm", "alg": "ES256", "use": "sig"},
        {**RSAKey.generate_key(2048).as_dict(private=True), "kid": "pkcs11:RS256:hsm", "alg": "RS256", "use": "sig"},
    ]
    path.write_text(json.dumps(keys))


def _process_state(pid: int) -> str:
    """What a process that does not answer is doing, read from /proc: running or waiting, on what, and how
    much CPU it has had. Told in the failure so that a start that hangs says why."""
    try:
        tasks = sorted(Path(f"/proc/{pid}/task").iterdir())
        lines = []
        for task in tasks:
            stat = (task / "stat").read_text().rsplit(")", 1)[1].split()
            ticks = int(stat[11]) + int(stat[12])
            lines.append(
                f"  thread {task.name}: state {stat[0]}, wchan {(task / 'wchan').read_text()}, cpu ticks {ticks}"
            )
        return "\n".join(lines)
    except OSError as error:
        return f"  /proc unreadable: {error}"


def _start(  # noqa: PLR0913, PLR0917 - the stand-in's settings
    node: str, tmp: Path, log: Path, redirect_uri: str, post_logout_redirect_uri: str, alg: str
) -> tuple[subprocess.Popen[bytes], str]:
    """The stand-in's process, once it answers, and its issuer. A start that fails is tried again on
    another port: on a loaded 2-core machine a start once took longer than START_TIMEOUT (2026-12-05), and
    twice in a row in a later run (2026-12-07)."""
    keys = tmp / "standin-keys.json"
    _write_keys(keys)
    failures = []
    for _attempt in range(3):
        port = _free_port()
        issuer = f"http://127.0.0.1:{port}/api/v2"
        env = {
            **os.environ,
            "FC_STANDIN_PORT": str(port),
            "FC_STANDIN_ISSUER": issuer,
            "FC_CLIENT_ID": CLIENT_ID,
            "FC_CLIENT_SECRET": CLIENT_SECRET,
            "FC_REDIRECT_URIS": redirect_uri,
            "FC_POST_LOGOUT_REDIRECT_URIS": post_logout_redirect_uri,
            "FC_SIGNING_ALG": alg,
            "FC_STANDIN_KEYS": str(keys),
        }
        with log.open("w") as out:
            process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [node, "server.mjs"], cwd=STANDIN_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        started = time.monotonic()
        while process.poll() is None and time.monotonic() - started < START_TIMEOUT:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/__standin/health", timeout=1):
                    return process, issuer
            except OSError:
                time.sleep(0.1)
        state = _process_state(process.pid) if process.poll() is None else ""
        _stop(process)
        failures.append(
            f"port {port}, exit code {process.returncode}, after {time.monotonic() - started:.1f} s:\n"
            f"{state}\n{log.read_text()}"
        )
    pytest.fail("the FranceConnect stand-in did not start:\n" + "\n".join(failures))


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_standin(
    tmp: Path, *, redirect_uri: str, post_logout_redirect_uri: str, alg: str = "ES256"
) -> Iterator[StandIn]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are needed for the FranceConnect stand-in")
    _install(npm)
    log = tmp / "standin.log"
    process, issuer = _start(node, tmp, log, redirect_uri, post_logout_redirect_uri, alg)
    try:
        yield StandIn(issuer, CLIENT_ID, CLIENT_SECRET, log)
    finally:
        _stop(process)
