"""The load test's report (bench/load.py): the machine, the memory of the web workers, its table and its block of
docs/benchmarks.md. Imported by bench/load.py after locust, which patches the standard library for gevent."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import psycopg
from locust.env import Environment

from bench.cluster import Cluster, _children
from bench.common import ROOT
from bench.procfs import process_rss_kib
from bench.report import code_version


def machine(cluster: Cluster, load_before: str) -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            model,
        )
    with psycopg.connect(cluster.database_url) as conn:
        pg = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True, check=False).stderr.strip().split("/")[-1]
    return {
        "cpu": f"{model}, {os.cpu_count()} cores",
        "os": f"{platform.system()} {platform.release()}",
        "load": load_before,
        "versions": f"Python {platform.python_version()}, gunicorn {version('gunicorn')}, nginx {nginx}, "
        f"PostgreSQL {pg}, locust {version('locust')}",
        "code": code_version(),
    }


def loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def report(args: argparse.Namespace, env: Environment, seconds: float, info: dict[str, str], load_after: str) -> str:
    stats = env.stats
    rows = sorted(stats.entries.values(), key=lambda e: (e.method != "JOURNEY", e.name))
    lines = [
        "| | |",
        "|---|---|",
        f"| Date | {datetime.now(UTC):%Y-%m-%d %H:%M} UTC |",
        f"| Code | {info['code']} |",
        f"| Machine | {info['cpu']}; {info['os']}; load average {info['load']} before, {load_after} after |",
        f"| Software | {info['versions']} |",
        (
            f"| Set-up | 2 web processes (gunicorn, `deploy/gunicorn.conf.py`, 1 sync worker each) behind nginx, PostgreSQL, Redis; "
            f"{args.accounts} active accounts; locust, {args.users} simulated people on this same machine, "
            "0.2–1 s between journeys, each journey a new person with their own address |"
        ),
        f"| Duration | {seconds:.0f} s |",
        f"| Memory | {info.get('memory', 'not measured')} |",
        f"| Errors | **{errors(env)}** |",
        (
            f"| Throughput | **{stats.total.total_rps - _journey_rps(stats):.1f} requests/s**, "
            f"{_journey_rps(stats):.1f} journeys/s |"
        ),
        "",
        "| Kind | Count | Errors | p50 (ms) | p99 (ms) | per second |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for e in rows:
        label = f"**journey: {e.name}**" if e.method == "JOURNEY" else e.name
        lines.append(
            f"| {label} | {e.num_requests} | {e.num_failures} | {e.get_response_time_percentile(0.5):.0f} | "
            f"{e.get_response_time_percentile(0.99):.0f} | {e.total_rps:.2f} |"
        )
    lines += [
        "",
        f"Command: `make bench-load MINUTES={args.minutes:g}` (`bench/load.py --minutes {args.minutes:g} --users {args.users}`)",
    ]
    if info["load"].split(" / ")[0] and float(info["load"].split(" / ")[0]) >= 1.5:  # noqa: PLR2004
        lines.append(
            "\n⚠ The machine was busy with other work when the run started (load average ≥ 1.5 on 2 cores): "
            "the figures are lower and the tails longer than on a quiet machine."
        )
    return "\n".join(lines)


def worker_rss_kib(cluster: Cluster) -> list[int]:
    """Resident memory of each process's gunicorn worker (the master's child), in KiB."""
    return [
        process_rss_kib(pid) for process in cluster.processes if process.proc for pid in _children(process.proc.pid)
    ]


def memory_line(early: list[int], late: list[int], at: float) -> str:
    if not early or len(early) != len(late):
        return "not measured"
    growth = max((b - a) / a for a, b in zip(early, late, strict=True)) * 100
    mib = lambda values: " / ".join(f"{v / 1024:.0f}" for v in values)  # noqa: E731 - a local format
    return f"workers' RSS {mib(early)} MiB at {at:.0f} s, {mib(late)} MiB at the end (largest growth {growth:+.1f} %)"


def errors(env: Environment) -> int:
    """Failed requests and journeys, and exceptions raised in the simulated people's code."""
    crashes = sum(e["count"] for e in env.runner.exceptions.values()) if env.runner else 0
    return env.stats.total.num_failures + crashes


def _journey_rps(stats) -> float:
    return sum(e.total_rps for e in stats.entries.values() if e.method == "JOURNEY")


def write_doc(body: str) -> None:
    """Replace the `result:load` block of docs/benchmarks.md (its section is not a script's own:
    bench/run.py's writer keeps only its login blocks, and silently dropped this one)."""
    doc = ROOT / "docs" / "benchmarks.md"
    start, end = "<!-- result:load -->\n", "\n<!-- /result:load -->"
    text = doc.read_text()
    if start not in text or end not in text:
        raise SystemExit("docs/benchmarks.md has no result:load block to replace")
    head, rest = text.split(start, 1)
    doc.write_text(head + start + body + end + rest.split(end, 1)[1])
