"""Two Trousseau web processes behind nginx on one throwaway PostgreSQL database (bench/cluster.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from django.db import connection

from bench.cluster import Cluster, SeededAccount, postgres_unreachable


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # The cluster has a database of its own: once per `make test` is enough, in the PostgreSQL pass.
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL pass of the suite")
    reason = postgres_unreachable()
    if reason:
        pytest.skip(f"{reason}: the web processes share a PostgreSQL database")
    with Cluster.start(processes=2, accounts=60, database_prefix="trousseau_scaleout") as running:
        yield running


@pytest.fixture
def both_up(cluster: Cluster) -> Cluster:
    """Every process running again, and nginx sending to each (it retries a failed one after a second)."""
    for process in cluster.processes:
        if not process.running:
            process.start()
    if cluster.nginx.down:
        cluster.undrain()
    wanted = {process.address for process in cluster.processes}
    seen: set[str] = set()
    deadline = time.monotonic() + 30
    while seen != wanted and time.monotonic() < deadline:
        seen.add(requests.get(f"{cluster.url}/login", timeout=60).headers["X-Served-By"])
        time.sleep(0.05)
    assert seen == wanted, cluster.logs()
    return cluster


@pytest.fixture(scope="module")
def guardians(cluster: Cluster) -> Iterator[SeededAccount]:
    """Guardian accounts with a recorded mobile, each handed out once in the module."""
    return iter([a for a in cluster.accounts if a.kind == "guardian"])


@pytest.fixture(scope="module")
def pupils(cluster: Cluster) -> Iterator[SeededAccount]:
    return iter([a for a in cluster.accounts if a.kind == "pupil"])
