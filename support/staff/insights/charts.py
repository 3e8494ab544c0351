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
LEGEND_Y, LEGEND_ROW = 2, 16  # the legend's first row, and each further one
# Told apart by colour first, then (for a ninth series on) by a dash pattern on
# lines and a hatch on bars, so no two series of a chart look the same.
COLOURS = (
    "#0b5fff", "#c2410c", "#0a7d4f", "#7c3aed", "#0e7490", "#a16207", "#be185d", "#374151",
)  # fmt: skip
DASHES = ("", "7 4", "2 3")
MAX_SERIES = len(COLOURS) * len(DASHES)
_ids = count(1)


@dataclass(frozen=True)
class Style:
    """How one series is drawn: its colour and, past the plain colours, a pattern."""

    colour: str
    kind: int  # 0 plain, 1 dashed line or hatched bar, 2 dotted line or dotted bar

    @property
    def dash(self) -> str:
        """The `stroke-dasharray` of a line, empty for a plain one."""
        return DASHES[self.kind]


def series_style(index: int) -> Style:
    """The style of the `index`-th series of a chart (at most MAX_SERIES)."""
    return Style(COLOURS[index % len(COLOURS)], index // len(COLOURS))


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


def scale(largest: float) -> tuple[int, int]:
    """The top of the value axis and the step between its gridlines, both whole numbers.

    The step is 1, 2 or 5 × 10^n, so every gridline sits at a round number and is
    labelled with exactly its value (a scale up to 5 reads 0, 1, 2, 3, 4, 5, never
    "2" at 2.5); about five steps, at most six; the top is the first gridline at or
    above the largest value, at least 2.
    """
    if largest <= 2:
        return 2, 1
    rough = largest / 5
    power = 10 ** max(math.floor(math.log10(rough)), 0)
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= rough)
    return math.ceil(largest / step) * step, step


@dataclass(frozen=True)
class _Layout:
    """Where things go in one chart: the legend's rows push the plot down."""

    chart_id: str
    legend: list[tuple[float, float]]  # each series' swatch position
    plot_top: float
    height: float
    top: int  # the value at the top of the scale
    tick: int  # the value between two gridlines
    step: float  # the width given to each label

    def y(self, value: float) -> float:
        """The vertical position of `value`."""
        return self.plot_top + (self.height - self.plot_top - BOTTOM) * (1 - value / self.top)


def _legend_positions(series: Sequence[Series]) -> list[tuple[float, float]]:
    """Each name's swatch position, wrapping onto a new row rather than off the picture."""
    positions, x, y = [], float(LEFT), float(LEGEND_Y)
    for line in series:
        width = 14 + 8 * len(line.name) + 16
        if x > LEFT and x + width - 16 > WIDTH - RIGHT:
            x, y = float(LEFT), y + LEGEND_ROW
        positions.append((x, y))
        x += width
    return positions


def _layout(labels: Sequence[str], series: Sequence[Series]) -> _Layout:
    """Check the series, place the legend, and scale to the largest value."""
    if len(series) > MAX_SERIES:
        # Refused loudly: a series drawn like another, or left out, would mislead.
        raise ValueError(f"a chart shows at most {MAX_SERIES} series, not {len(series)}")
    for line in series:
        if len(line.values) != len(labels):
            raise ValueError(
                f"series {line.name!r} has {len(line.values)} values for {len(labels)} labels"
            )
    legend = _legend_positions(series)
    extra = (legend[-1][1] - LEGEND_Y) if legend else 0
    top, tick = scale(max((v for s in series for v in s.values), default=0))
    return _Layout(
        chart_id=f"chart-{next(_ids)}",
        legend=legend,
        plot_top=TOP + extra,
        height=HEIGHT + extra,
        top=top,
        tick=tick,
        step=(WIDTH - LEFT - RIGHT) / max(len(labels), 1),
    )


def _frame(
    title: str, labels: Sequence[str], layout: _Layout, fmt: Callable[[int], str]
) -> list[str]:
    """The SVG so far: title, gridlines with their values, and the labels."""
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {layout.height:.0f}" role="img" dir="ltr" '
        f'aria-labelledby="{layout.chart_id}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{layout.chart_id}">{escape(title)}</title>',
    ]
    for value in range(0, layout.top + 1, layout.tick):
        y = layout.y(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(value))}</text>'
        )
    for index, label in enumerate(labels):
        x = LEFT + layout.step * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{layout.height - 12:.0f}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    return parts


def _bar_fill(style: Style, layout: _Layout, index: int) -> tuple[str, str]:
    """A bar's `fill` and the <pattern> it needs (empty for a plain colour)."""
    if style.kind == 0:
        return style.colour, ""
    pattern_id = f"{layout.chart_id}-fill-{index}"
    if style.kind == 1:
        mark = f'<line x1="0" y1="0" x2="0" y2="6" stroke="{style.colour}" stroke-width="3"/>'
        extra = ' patternTransform="rotate(45)"'
    else:
        mark = f'<circle cx="3" cy="3" r="1.6" fill="{style.colour}"/>'
        extra = ""
    pattern = (
        f'<pattern id="{pattern_id}" width="6" height="6" patternUnits="userSpaceOnUse"{extra}>'
        f'<rect width="6" height="6" fill="{style.colour}" fill-opacity="0.25"/>{mark}</pattern>'
    )
    return f"url(#{pattern_id})", pattern


def line_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], fmt: Callable[[int], str] = str
) -> Chart:
    """One line per series over the labels (months)."""
    layout = _layout(labels, series)
    parts = _frame(title, labels, layout, fmt)
    for index, line in enumerate(series):
        style = series_style(index)
        points = [
            (LEFT + layout.step * (i + 0.5), layout.y(value)) for i, value in enumerate(line.values)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{style.colour}" '
            f'stroke-width="2.5"{dash}/>'
        )
        for (x, y), label, value in zip(points, labels, line.values, strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{style.colour}"><title>'
                f"{escape(line.name)}, {escape(label)}: {escape(fmt(value))}</title></circle>"
            )
    swatches = [_line_swatch(series_style(i), x, y) for i, (x, y) in enumerate(layout.legend)]
    return _finish(title, labels, series, parts, swatches, layout, fmt)


def bar_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], fmt: Callable[[int], str] = str
) -> Chart:
    """Grouped bars, one group per label, one bar per series."""
    layout = _layout(labels, series)
    parts = _frame(title, labels, layout, fmt)
    width = layout.step * 0.8 / max(len(series), 1)
    fills = []
    for number, bars in enumerate(series):
        style = series_style(number)
        fill, pattern = _bar_fill(style, layout, number)
        if pattern:
            parts.append(f"<defs>{pattern}</defs>")
        fills.append((fill, style.colour))
        for index, (label, value) in enumerate(zip(labels, bars.values, strict=True)):
            x = LEFT + layout.step * index + layout.step * 0.1 + width * number
            y = layout.y(value)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{layout.height - BOTTOM - y:.1f}" fill="{fill}" stroke="{style.colour}">'
                f"<title>{escape(bars.name)}, {escape(label)}: {escape(fmt(value))}</title></rect>"
            )
    swatches = [
        f'<rect x="{x}" y="{y}" width="10" height="10" fill="{fill}" stroke="{colour}"/>'
        for (fill, colour), (x, y) in zip(fills, layout.legend, strict=True)
    ]
    return _finish(title, labels, series, parts, swatches, layout, fmt)


def _line_swatch(style: Style, x: float, y: float) -> str:
    """A short piece of the line, dashed as the line is, for the legend."""
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    return (
        f'<line x1="{x}" x2="{x + 10}" y1="{y + 5}" y2="{y + 5}" stroke="{style.colour}" '
        f'stroke-width="2.5"{dash}/>'
    )


def _finish(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    parts: list[str],
    swatches: list[str],
    layout: _Layout,
    fmt: Callable[[int], str],
) -> Chart:
    for swatch, line, (x, y) in zip(swatches, series, layout.legend, strict=True):
        parts.append(f'{swatch}<text x="{x + 14}" y="{y + 9}">{escape(line.name)}</text>')
    parts.append("</svg>")
    rows = [[label, *(fmt(s.values[i]) for s in series)] for i, label in enumerate(labels)]
    return Chart(title, Markup("".join(parts)), ["", *(s.name for s in series)], rows)
