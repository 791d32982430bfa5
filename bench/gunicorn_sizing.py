"""Sizing the gunicorn worker model of deploy/gunicorn.conf.py: throughput and memory, measured.

    .venv/bin/python bench/gunicorn_sizing.py [--seconds N] [--clients N]

On a throwaway PostgreSQL database (SQLite locks under two writing processes) with active accounts, for each worker model (sync workers, one per
core, as the conf sets; the same cores as gthread workers with 2 threads; one worker with 2 threads),
runs concurrent full password logins (GET the mire, POST identifier and password, 302) for N seconds,
then reads each worker's RSS (`ps -o rss`) and PSS (/proc/<pid>/smaps_rollup), with and without
preload_app. Prints a table for docs/deployment.md. The machine is shared: read the figures side by
side, within one run, not against another run's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PASSWORD, configure_environment, create_accounts, free_port, pg_create, pg_drop  # noqa: E402

PG_URL = "postgres://postgres@127.0.0.1:5432/trousseau_sizing_bench"

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MODELS = {
    "sync, workers = cores (the conf)": "",
    "gthread, workers = cores, 2 threads": "--worker-class gthread --threads 2",
    "gthread, 1 worker, 2 threads": "--worker-class gthread --threads 2 --workers 1",
    "sync, workers = cores, preload": "--preload",
}


def login(url: str, identifier: str) -> bool:
    with requests.Session() as browser:
        page = browser.get(url + "/login", timeout=30)
        token = CSRF.search(page.text)
        if token is None:
            return False
        answer = browser.post(
            url + "/login",
            data={"csrfmiddlewaretoken": token.group(1), "identifier": identifier, "password": PASSWORD},
            timeout=30,
            allow_redirects=False,
        )
        return answer.status_code == 302  # noqa: PLR2004


def load(url: str, identifiers: list[str], clients: int, seconds: float) -> tuple[int, int]:
    done, failed = [0], [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(offset: int) -> None:
        n = offset
        while time.monotonic() < stop:
            ok = login(url, identifiers[n % len(identifiers)])
            n += clients
            with lock:
                done[0] += ok
                failed[0] += not ok

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0], failed[0]


def workers_of(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True, check=False)
    return [int(pid) for pid in out.stdout.split()]


def memory_mb(pid: int) -> tuple[float, float]:
    rss = int(subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True, check=True).stdout)
    pss = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss / 1024, pss / 1024


def argon2_rate(encoded: str, seconds: float) -> float:
    """The reference, just before each model: raw argon2id verifications per second on every core."""
    from argon2 import PasswordHasher

    from trousseau.accounts.hashers import TrousseauArgon2Hasher as Hasher

    hasher = PasswordHasher(time_cost=Hasher.time_cost, memory_cost=Hasher.memory_cost, parallelism=Hasher.parallelism)
    digest = "$" + encoded.split("$", 1)[1]  # Django's "argon2$" prefix off
    counts = [0] * len(os.sched_getaffinity(0))
    stop = time.monotonic() + seconds

    def verify(slot: int) -> None:
        while time.monotonic() < stop:
            hasher.verify(digest, PASSWORD)
            counts[slot] += 1

    threads = [threading.Thread(target=verify, args=(i,)) for i in range(len(counts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def measure(env: dict[str, str], extra: str, identifiers: list[str], clients: int, seconds: float) -> str:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    run_env = {**env, "TROUSSEAU_BIND": f"127.0.0.1:{port}", "TROUSSEAU_ACCESS_LOG": "0", "GUNICORN_CMD_ARGS": extra}
    master = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
        cwd=ROOT,
        env=run_env,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                if requests.get(url + "/healthz", timeout=10).status_code == 200:  # noqa: PLR2004
                    break
            except requests.RequestException:
                time.sleep(0.1)
        load(url, identifiers, clients, 2)  # warm every worker
        done, failed = load(url, identifiers, clients, seconds)
        memories = [memory_mb(pid) for pid in workers_of(master.pid)]
        master_rss = memory_mb(master.pid)[0]
    finally:
        master.send_signal(signal.SIGTERM)
        master.wait(timeout=60)
    rss = max(m[0] for m in memories)
    pss = sum(m[1] for m in memories)
    return (
        f"{done / seconds:6.1f} logins/s ({failed} failed) | {len(memories)} workers, max RSS {rss:.0f} MB, "
        f"total PSS {pss:.0f} MB, master RSS {master_rss:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="trousseau-sizing-"))
    pg_create(PG_URL)
    env = configure_environment(PG_URL, workdir)  # production settings, their keys made in workdir
    env["HOME"] = str(workdir)
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, capture_output=True)
    import django

    django.setup()
    identifiers, encoded = create_accounts(200)
    print(f"cores: {len(os.sched_getaffinity(0))}, clients: {args.clients}, {args.seconds:.0f} s per model")
    from django.db import connections

    connections.close_all()
    try:
        for name, extra in MODELS.items():
            reference = argon2_rate(encoded, 5)
            figures = measure(env, extra, identifiers, args.clients, args.seconds)
            print(f"{name:38} argon2 {reference:5.1f}/s | {figures}", flush=True)
    finally:
        pg_drop(PG_URL)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
