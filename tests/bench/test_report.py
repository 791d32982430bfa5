"""The benchmarks' verdicts print a ratio that agrees with them."""

from __future__ import annotations

import pytest

from bench import report
from bench.report import shown


@pytest.mark.parametrize(
    ("ratio", "goal", "text"),
    [
        (0.51, 0.5, "0.51"),
        (0.5, 0.5, "0.50"),  # met exactly
        (0.4996, 0.5, "0.4996"),  # two decimals would print the goal it misses
        (0.497, 0.5, "0.497"),
        (1.504, 1.5, "1.504"),  # a ceiling (goal ≤ 1.5) missed just above it
        (0.994, 1.0, "0.99"),
    ],
)
def test_a_ratio_is_never_printed_as_the_goal_it_misses(ratio: float, goal: float, text: str) -> None:
    assert shown(ratio, goal) == text


def test_the_system_row_reports_the_share_other_guests_took_during_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Between the snapshot and the report: 1000 ticks in all, of which 50 went to other guests (steal).
    monkeypatch.setattr(report, "cpu_ticks", lambda: (150, 11000))
    machine = {"os": "Linux 6", "load": "0.10 / 0.20 / 0.30", "nice": "0", "ticks": "100 10000"}
    row = report.system_row(machine)
    assert row.startswith("Linux 6, load average 0.10 / 0.20 / 0.30 before measuring; ")
    assert "other guests of the host took 5.0 % of this machine's CPU time during the run" in row
    assert "⚠" in row  # above STEAL_NOTICED

    monkeypatch.setattr(report, "cpu_ticks", lambda: (101, 11000))
    assert "took 0.1 %" in report.system_row(machine)
    assert "⚠" not in report.system_row(machine)


def test_the_system_row_says_nothing_of_steal_where_the_kernel_counts_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "cpu_ticks", lambda: (0, 0))
    machine = {"os": "Darwin 23", "load": "1.00 / 1.00 / 1.00", "nice": "5", "ticks": "0 0"}
    assert (
        report.system_row(machine) == "Darwin 23, load average 1.00 / 1.00 / 1.00 before measuring, run at niceness 5"
    )


def test_cpu_ticks_reads_the_steal_column_of_proc_stat() -> None:
    steal, every = report.cpu_ticks()
    assert 0 <= steal <= every
