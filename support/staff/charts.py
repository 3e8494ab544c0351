"""Server-rendered SVG charts: no JavaScript, a <title> for screen readers.

Each chart comes with the table of its numbers (`Chart.rows`), which the
template shows next to it, so the figures are readable without the picture.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import count

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 26, 36
COLOURS = ("#0b5fff", "#c2410c", "#0a7d4f", "#7c3aed")
_ids = count(1)


@dataclass
class Series:
    """One line (or one set of bars) with its name and values."""

    name: str
    values: Sequence[int]


@dataclass
class Chart:
    """An SVG picture plus the table of the same numbers."""

    title: str
    svg: Markup
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^n at or above `value`, at least 2.

    At least 2 so the middle gridline of a count chart is a whole number.
    """
    if value <= 2:
        return 2
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _frame(title: str, labels: Sequence[str], top: float, fmt: Callable[[int], str]) -> list[str]:
    chart_id = f"chart-{next(_ids)}"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" dir="ltr" '
        f'aria-labelledby="{chart_id}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}">{escape(title)}</title>',
    ]
    plot_h = HEIGHT - TOP - BOTTOM
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(int(top * fraction)))}</text>"
        )
    step = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    for index, label in enumerate(labels):
        x = LEFT + step * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="middle">{escape(label)}</text>'
        )
    return parts


def _y(value: float, top: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top)


def _axes(
    title: str, labels: Sequence[str], series: Sequence[Series], fmt: Callable[[int], str]
) -> tuple[float, list[str], float]:
    """The scale's top value, the SVG so far (frame, grid, labels), the width per label."""
    top = nice_ceiling(max((v for s in series for v in s.values), default=0))
    return top, _frame(title, labels, top, fmt), (WIDTH - LEFT - RIGHT) / max(len(labels), 1)


def line_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], fmt: Callable[[int], str] = str
) -> Chart:
    """One line per series over the labels (months)."""
    top, parts, step = _axes(title, labels, series, fmt)
    for colour, line in zip(COLOURS * 4, series, strict=False):
        points = [(LEFT + step * (i + 0.5), _y(value, top)) for i, value in enumerate(line.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
        )
        for (x, y), label, value in zip(points, labels, line.values, strict=False):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>'
                f"{escape(line.name)}, {escape(label)}: {escape(fmt(value))}</title></circle>"
            )
    return _finish(title, labels, series, parts, fmt)


def bar_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], fmt: Callable[[int], str] = str
) -> Chart:
    """Grouped bars, one group per label, one bar per series."""
    top, parts, step = _axes(title, labels, series, fmt)
    width = step * 0.8 / max(len(series), 1)
    for number, (colour, bars) in enumerate(zip(COLOURS, series, strict=False)):
        for index, (label, value) in enumerate(zip(labels, bars.values, strict=False)):
            x = LEFT + step * index + step * 0.1 + width * number
            y = _y(value, top)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{HEIGHT - BOTTOM - y:.1f}" fill="{colour}">'
                f"<title>{escape(bars.name)}, {escape(label)}: {escape(fmt(value))}</title></rect>"
            )
    return _finish(title, labels, series, parts, fmt)


def _finish(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    parts: list[str],
    fmt: Callable[[int], str],
) -> Chart:
    legend_x = LEFT
    for colour, line in zip(COLOURS * 4, series, strict=False):
        parts.append(
            f'<rect x="{legend_x}" y="2" width="10" height="10" fill="{colour}"/>'
            f'<text x="{legend_x + 14}" y="11">{escape(line.name)}</text>'
        )
        legend_x += 14 + 8 * len(line.name) + 16
    parts.append("</svg>")
    rows = [[label, *(fmt(s.values[i]) for s in series)] for i, label in enumerate(labels)]
    return Chart(title, Markup("".join(parts)), ["", *(s.name for s in series)], rows)
