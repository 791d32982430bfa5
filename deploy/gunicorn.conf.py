"""gunicorn for Trousseau: `gunicorn -c deploy/gunicorn.conf.py` (docs/deployment.md, "Worker model").

Every knob has a default for one pod or one machine and an environment variable to change it.

Worker model: sync workers, one per core, one thread each. A password login spends most of its time in
argon2id (m=19 MiB, t=2): CPU-bound work that a second thread in the same process cannot overlap with
much (bench/ measures it), and a sync worker that is busy simply leaves the next connection to an idle
one. More workers than cores only queue inside the kernel instead of in the listen backlog.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

# The project root on the import path: the Django project and the JSON logger class live there.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def cores() -> int:
    """The cores this process may use: the cgroup's CPU quota (a pod's limit) if any, else the CPU set."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return len(os.sched_getaffinity(0))


wsgi_app = "trousseau.wsgi:application"
bind = os.environ.get("TROUSSEAU_BIND", "0.0.0.0:8000").split(",")
workers = _int("TROUSSEAU_WORKERS", cores())
worker_class = "sync"
threads = 1
# Rolling restarts of each worker bound any slow leak; the jitter keeps them from restarting together.
max_requests = _int("TROUSSEAU_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
# A request past `timeout` seconds kills its worker (a hung gateway call has its own shorter timeouts).
timeout = _int("TROUSSEAU_TIMEOUT", 30)
# On SIGTERM, workers finish their requests for up to this long (Kubernetes waits 45 s, see deploy/k8s).
graceful_timeout = _int("TROUSSEAU_GRACEFUL_TIMEOUT", 25)
keepalive = 5
# gunicorn_h1c (requirements.txt) parses requests in C; "fast" makes its absence an error at start
# rather than a silent fallback to the slower Python parser.
http_parser = "fast"
# The heartbeat file each worker touches: on tmpfs, so a slow or full disk cannot stall workers.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108 - tmpfs, by design
# Not preloaded: each worker imports the application after the fork, so `kill -HUP` (a graceful reload)
# also rereads the settings and the key files after a key rollover, and nothing opened in the master
# (a connection, a metrics file) is shared by accident. The memory saved by preloading is small here
# (reference counts dirty the shared pages); docs/deployment.md has the figures.
preload_app = False
# Addresses whose X-Forwarded-Proto/-For gunicorn believes: the load balancer's. In a pod only the
# ingress controller reaches the port, so "*" is right there; on a single machine, the local proxy.
forwarded_allow_ips = os.environ.get("TROUSSEAU_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = "-" if os.environ.get("TROUSSEAU_ACCESS_LOG", "1") not in {"0", "false", "off"} else None
errorlog = "-"
loglevel = os.environ.get("TROUSSEAU_GUNICORN_LOG_LEVEL", "info")
logger_class = "trousseau.ops.gunicorn_logging.JsonLogger"
proc_name = "trousseau"
# Control is by signals (TERM, HUP, TTIN/TTOU), as Kubernetes and systemd send them; no control socket,
# which would need a writable home and would clash between two gunicorns on one machine.
control_socket_disable = True

# Prometheus multiprocess mode: every worker writes its samples under this directory and /metrics adds
# them up. Set before any worker imports prometheus_client. One directory per master by default, so two
# gunicorns on one machine never mix (or wipe) each other's figures.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    # Remembered in the environment: gunicorn reads this file more than once (and again on HUP).
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="trousseau-metrics-", dir=worker_tmp_dir)
    os.environ["TROUSSEAU_METRICS_DIR_OWNED"] = "1"
metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_starting(server: Any) -> None:
    """Start from zero: files left by a previous master would be added to this one's counts."""
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()


def post_worker_init(worker: Any) -> None:
    """The worker's one-time work (its views, templates, catalogues and keys: trousseau/core/warm.py) before it
    accepts a connection, so that the first families after each restart do not wait for it."""
    from trousseau.core.warm import warm_up  # noqa: PLC0415 - the application is loaded now

    warm_up()


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended (max_requests, timeout, crash): its live gauges go, its counters stay summed."""
    from prometheus_client import multiprocess  # noqa: PLC0415 - only once the directory is set

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if os.environ.get("TROUSSEAU_METRICS_DIR_OWNED") == "1":
        shutil.rmtree(metrics_dir, ignore_errors=True)
