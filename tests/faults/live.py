"""Trousseau served by a real gunicorn process (bench/cluster.py's), and a client that walks it as a browser would."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from bench.cluster import ROOT, WebProcess, web_environment


def environment(database_url: str, workdir: Path, port: int) -> dict[str, str]:
    """The cluster's production settings (bench/cluster.py) on this database, for one process on `port`."""
    return web_environment(database_url, workdir, f"http://127.0.0.1:{port}")


def server(env: dict[str, str], port: int, log: Path) -> WebProcess:
    """`deploy/gunicorn.conf.py` with one sync worker on `port`, serving once this returns."""
    process = WebProcess(port=port, env=env, log=log)
    try:
        process.start()
    except BaseException:
        process.kill()  # a server that never served is not left behind
        raise
    return process


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
