"""Real gunicorn processes on deploy/gunicorn.conf.py, with a production environment, for the ops tests."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from trousseau.federation.oidc import keyfiles

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "gunicorn.conf.py"
METRICS_TOKEN = "test-metrics-token-" + secrets.token_hex(8)
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def production_env(site: Path, **overrides: str) -> dict[str, str]:
    """What a deployment sets (deploy/env.example), on a throwaway SQLite database under `site`."""
    keys = site / "oidc"
    if not (keys / keyfiles.CURRENT).exists():
        keys.mkdir(parents=True, exist_ok=True)
        (keys / keyfiles.CURRENT).write_text(keyfiles.generate_pem())
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(site),
        "LANG": "C.UTF-8",
        "TROUSSEAU_DEBUG": "0",
        "TROUSSEAU_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"sqlite:///{site / 'db.sqlite3'}",
        "TROUSSEAU_ALLOWED_HOSTS": "127.0.0.1",
        "TROUSSEAU_OIDC_KEYS_DIR": str(keys),
        "TROUSSEAU_SAML_DEV_KEYS": "1",
        "TROUSSEAU_METRICS_TOKEN": METRICS_TOKEN,
        "TROUSSEAU_LOG_LEVEL": "WARNING",
    }
    return {**env, **overrides}


def migrate(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, capture_output=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    log: Path

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return requests.get(self.url + path, timeout=30, allow_redirects=False, **kwargs)  # type: ignore[arg-type]

    def metrics(self) -> str:
        response = self.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert response.status_code == 200, response.text
        return response.text

    def failed_login(self) -> int:
        """A wrong password through the mire, as a browser posts it (CSRF cookie and token)."""
        with requests.Session() as browser:
            page = browser.get(self.url + "/login", timeout=30)
            token = _CSRF_INPUT.search(page.text)
            assert token is not None, page.text
            answer = browser.post(
                self.url + "/login",
                data={
                    "csrfmiddlewaretoken": token.group(1),
                    "identifier": "x." + secrets.token_hex(4),
                    "password": "Faux1!mot",
                },
                timeout=30,
                allow_redirects=False,
            )
            return answer.status_code

    def stop(self) -> int:
        """SIGTERM, as Kubernetes sends it; the exit status once the workers have finished."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 1, wait_ready: bool = True) -> Iterator[Server]:
    port = free_port()
    log = Path(env["HOME"]) / f"gunicorn-{port}.log"
    run_env = {**env, "TROUSSEAU_BIND": f"127.0.0.1:{port}", "TROUSSEAU_WORKERS": str(workers)}
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and conf
            [sys.executable, "-m", "gunicorn", "-c", str(CONF)],
            cwd=ROOT,
            env=run_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_answering(server, ready=wait_ready)
        yield server
    finally:
        server.stop()


def _wait_until_answering(server: Server, *, ready: bool) -> None:
    path = "/readyz" if ready else "/healthz"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            msg = f"gunicorn exited: {server.log.read_text()}"
            raise AssertionError(msg)
        try:
            if server.get(path).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    msg = f"gunicorn did not answer {path}: {server.log.read_text()}"
    raise AssertionError(msg)
