"""What the HTTP server itself costs a request: a WSGI application that answers "hello", under each server.

    .venv/bin/python bench/http_servers.py [--requests N] [--rounds R]

Issue #21's morning journey spends about a tenth of its CPU in gunicorn (its `--layers` table). This
measures the part a server change could move: each server runs one process pinned to one core, the
client (this process, on the other core) sends `GET /hello` with a browser's few headers on a new
connection each time, one at a time, and the figure is the server's CPU (all its processes) per
request, in alternating rounds. gunicorn runs as deploy/gunicorn.conf.py runs it (sync worker, its
fast parser) without an access log, then with gunicorn's own; granian and uWSGI (pyuwsgi) run when
they are installed (`pip install granian pyuwsgi`, not in the project's requirements: this is a
question for the next step, not a dependency). It prints and writes nothing else.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import free_port  # noqa: E402 - after the path is set
from bench.procfs import process_cpu_seconds  # noqa: E402

APP = """def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]
"""
REQUEST = (
    b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0 (bench)\r\nAccept: text/html\r\n"
    b"Accept-Language: fr-FR,fr;q=0.9\r\nCookie: sessionid=0123456789abcdefghijklmnopqrstuv\r\nConnection: close\r\n\r\n"
)


def servers(port: int) -> dict[str, list[str]]:
    """The command of each server that can run here."""
    python = sys.executable
    gunicorn = [python, "-m", "gunicorn", "-w", "1", "-k", "sync", "--http-parser", "fast", "-b", f"127.0.0.1:{port}"]
    found = {
        "gunicorn (sync, no access log)": [*gunicorn, "hello:application"],
        "gunicorn (sync, its access log)": [*gunicorn, "--access-logfile", os.devnull, "hello:application"],
    }
    if _importable("granian"):
        found["granian (WSGI, 1 worker)"] = [
            *(python, "-m", "granian", "--interface", "wsgi", "--workers", "1", "--blocking-threads", "1"),
            *("--port", str(port), "hello:application"),
        ]
    uwsgi = shutil.which("pyuwsgi") or shutil.which("uwsgi")
    if uwsgi:
        found["uWSGI (1 process)"] = [
            *(uwsgi, "--http-socket", f"127.0.0.1:{port}", "--wsgi-file", "hello.py"),
            *("--processes", "1", "--disable-logging"),
        ]
    return found


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def cpu_seconds(pid: int) -> float:
    """CPU of the process and of its children (a server's master and workers)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            total += process_cpu_seconds(current)
            pending += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except OSError:
            continue
    return total


def one(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(REQUEST)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    if not data.startswith(b"HTTP/1.1 200") or not data.endswith(b"hello"):
        raise SystemExit(f"unexpected answer: {data[:200]!r}")


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server stopped: {process.args}")
        try:
            one(port)
        except OSError:
            time.sleep(0.1)
        else:
            return
    raise SystemExit(f"the server did not answer: {process.args}")


def measure(argv: list[str], port: int, workdir: Path, requests: int, core: int | None) -> float:
    """Microseconds of the server's CPU per request, after 300 requests of warm-up."""
    pin = ["taskset", "-c", str(core)] if core is not None and shutil.which("taskset") else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(workdir), os.environ.get("PYTHONPATH")]))}
    with subprocess.Popen(
        [*pin, *argv], cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as process:
        try:
            wait_ready(port, process)
            for _ in range(300):
                one(port)
            before = cpu_seconds(process.pid)
            for _ in range(requests):
                one(port)
            return (cpu_seconds(process.pid) - before) / requests * 1e6
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per server and round (5000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    args = parser.parse_args()
    usable = sorted(os.sched_getaffinity(0))
    server_core = usable[-1] if len(usable) > 1 else None
    if server_core is not None:
        os.sched_setaffinity(0, set(usable[:-1]))
    with tempfile.TemporaryDirectory(prefix="trousseau-http-servers-") as tmp:
        workdir = Path(tmp)
        (workdir / "hello.py").write_text(APP)
        results: dict[str, list[float]] = {}
        for n in range(args.rounds):
            port = free_port()
            for name, argv in servers(port).items():
                results.setdefault(name, []).append(measure(argv, port, workdir, args.requests, server_core))
            print(f"  round {n + 1}/{args.rounds} done", flush=True)
    print(f"\nServer CPU per request, median of {args.rounds} rounds of {args.requests} (µs):")
    for name, values in results.items():
        print(f"  {name:34} {statistics.median(values):6.0f}   (rounds: {', '.join(f'{v:.0f}' for v in values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
