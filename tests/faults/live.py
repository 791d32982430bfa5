"""Trousseau served by real gunicorn processes, and a client that walks it as a browser would."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fault-tests-secret-key-0123456789-0123456789-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(database_url: str, **extra: str) -> dict[str, str]:
    """Production settings (no debug pages) on the given database, the SMS and email outbox twins."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TROUSSEAU_", "DJANGO_", "REDIS_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="trousseau.settings",
        DATABASE_URL=database_url,
        TROUSSEAU_SECRET_KEY=SECRET,
        TROUSSEAU_DEBUG="0",
        TROUSSEAU_SECURE_COOKIES="0",
        TROUSSEAU_ALLOWED_HOSTS="127.0.0.1,localhost",
        TROUSSEAU_SAML_DEV_KEYS="1",
        TROUSSEAU_OIDC_DEV_KEYS="1",
        TROUSSEAU_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout


def python(env: dict[str, str], code: str) -> str:
    """Run `code` with Django set up on that database (to seed records or read the outbox)."""
    prologue = "import django; django.setup()\n"
    done = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", prologue + code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout


class Server:
    """`gunicorn trousseau.wsgi` with one sync worker on a free port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("ab")
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen(  # noqa: S603 - our own server
            [gunicorn, "trousseau.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "1", "--graceful-timeout", "5"],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/login", timeout=10)
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
            else:
                return
        msg = f"Trousseau did not answer on {self.url}"
        raise RuntimeError(msg)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


class Browser:
    """A requests session that sends Django's CSRF token with every form, as a page would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self._url(path), timeout=15, **kw)

    def post(self, path: str, data: dict[str, str], **kw: Any) -> requests.Response:
        token = self.session.cookies.get("csrftoken") or self._token_from(self.get(path).text)
        headers = {"Referer": self._url(path)}
        return self.session.post(
            self._url(path), data={"csrfmiddlewaretoken": token, **data}, headers=headers, timeout=15, **kw
        )

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    @staticmethod
    def _token_from(html: str) -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        return found.group(1) if found else ""
