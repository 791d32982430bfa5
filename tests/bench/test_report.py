"""The benchmarks' verdicts print a ratio that agrees with them."""

from __future__ import annotations

import pytest

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
