"""A PostgreSQL server of the test's own, which it may stop and start at will.

The machine's PostgreSQL serves the rest of the suite (in parallel), so it cannot be restarted under
it; Debian's binaries can run a second, private cluster in a temporary directory, as the `postgres`
user, on a port of its own.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

POSTGRES_USER = "postgres"


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


class PrivatePostgres:
    """A cluster in its own directory under /tmp (pytest's tmp_path is private to root; postgres must enter it)."""

    def __init__(self, port: int) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            pytest.skip("Debian's PostgreSQL server binaries are not installed")
        if os.geteuid() != 0:
            pytest.skip("a private cluster is started as the postgres user, which needs root here")
        try:
            self.uid = pwd.getpwnam(POSTGRES_USER).pw_uid
        except KeyError:
            pytest.skip("no postgres system user")
        self.bin = bin_dir
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="trousseau-pg-"))
        shutil.chown(self.root, user=POSTGRES_USER)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", POSTGRES_USER, "--no-sync", "-E", "UTF8")

    @property
    def url(self) -> str:
        return f"postgres://{POSTGRES_USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(  # noqa: S603 - Debian's binaries, fixed arguments
            ["/usr/sbin/runuser", "-u", POSTGRES_USER, "--", str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
        )
        if done.returncode:
            msg = f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}"
            raise RuntimeError(msg)

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", *extra)

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as in a failover or a restart for an upgrade."""
        self._ctl("stop", "-m", "fast")

    def remove(self) -> None:
        """Stop at once and delete the cluster."""
        try:
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
