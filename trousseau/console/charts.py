"""The activation curve as plain SVG geometry: drawn by the template, no script, no inline style.

The chart is decoration for sighted readers; the table beside it carries the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from trousseau.console.selectors.followup import Point

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    points: str  # "x,y x,y ..." for <polyline>
    dots: list[tuple[float, float]]


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    bottom: float
    series: list[Series]
    ticks: list[Tick]
    first_day: str
    last_day: str


def _y(percent: float) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - percent / 100), 1)


def activation_chart(points: list[Point], *, pupils_label: str, guardians_label: str) -> Chart | None:
    if not points:
        return None
    span = max(len(points) - 1, 1)
    plot = WIDTH - LEFT - RIGHT

    def series(name: str, css: str, values: list[int | None]) -> Series:
        dots = [(round(LEFT + plot * i / span, 1), _y(value)) for i, value in enumerate(values) if value is not None]
        return Series(name, css, " ".join(f"{x},{y}" for x, y in dots), dots)

    drawn = []
    if any(p.pupils.total for p in points):
        drawn.append(series(pupils_label, "tr-series-pupils", [p.pupils.percent for p in points]))
    if any(p.guardians.total for p in points):
        drawn.append(series(guardians_label, "tr-series-guardians", [p.guardians.percent for p in points]))
    ticks = [Tick(_y(v), f"{v} %") for v in (0, 25, 50, 75, 100)]
    return Chart(
        WIDTH,
        HEIGHT,
        LEFT,
        WIDTH - RIGHT,
        HEIGHT - BOTTOM,
        drawn,
        ticks,
        points[0].day.strftime("%d/%m"),
        points[-1].day.strftime("%d/%m"),
    )
