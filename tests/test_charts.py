"""Server-rendered SVG charts: readable axes and an accessible title."""

import itertools
import re

import pytest

from support.staff.insights.charts import MAX_SERIES, Series, bar_chart, line_chart, scale


def test_axis_tops_and_steps_are_round_numbers():
    assert [scale(v) for v in (0, 1, 2, 3, 5, 7, 12, 480, 1001, 123_456)] == [
        (2, 1), (2, 1), (2, 1), (3, 1), (5, 1), (8, 2), (15, 5), (500, 100), (1500, 500),
        (150_000, 50_000),
    ]  # fmt: skip


@pytest.mark.parametrize("largest", [1, 3, 5, 7, 9, 11, 49, 99, 101, 999, 12_345, 987_654])
def test_every_gridline_is_labelled_with_its_own_round_value(largest):
    chart = bar_chart("Started", ["Oct", "Nov"], [Series("Started", [0, largest])])
    ticks = re.findall(r'y1="([0-9.]+)" y2="[0-9.]+" class="grid"/><text[^>]*>([^<]*)<', chart.svg)
    values = [int(label) for _, label in ticks]
    step = values[1]
    assert values == list(range(0, values[-1] + 1, step)) and values[-1] >= largest
    assert 3 <= len(values) <= 7
    assert str(step).strip("0") in ("1", "2", "5")  # 1, 2 or 5 × 10^n
    # Each line is where its value is: evenly spaced, from the bottom (0) to the top.
    ys = [float(y) for y, _ in ticks]
    gaps = {round(a - b, 1) for a, b in itertools.pairwise(ys)}
    assert max(gaps) - min(gaps) <= 0.2


def test_a_scale_topping_at_five_reads_0_to_5():
    chart = line_chart("Supporters", ["Oct", "Nov"], [Series("Supporters", [2, 5])])
    labels = re.findall(r'text-anchor="end">([^<]*)</text>', chart.svg)
    assert labels == ["0", "1", "2", "3", "4", "5"]


def test_a_chart_of_one_supporter_has_distinct_axis_labels():
    chart = line_chart("Supporters", ["Oct", "Nov"], [Series("Supporters", [0, 1])])
    labels = re.findall(r'text-anchor="end">([^<]*)</text>', chart.svg)
    assert labels == ["0", "1", "2"]
    assert "<title" in chart.svg


def test_bar_heights_follow_the_values():
    chart = bar_chart("Started", ["Oct", "Nov"], [Series("Started", [5, 10])])
    heights = [float(h) for h in re.findall(r'height="([0-9.]+)" fill', chart.svg)]
    assert heights[1] == 2 * heights[0]


def _series(count, labels=2):
    return [Series(f"Series {n}", [n + i for i in range(labels)]) for n in range(count)]


_LINE = re.compile(
    r'<polyline [^>]*stroke="([^"]+)" stroke-width="[0-9.]+"(?: stroke-dasharray="([^"]+)")?/>'
)
_BAR = re.compile(r'<rect [^>]*fill="([^"]+)" stroke="([^"]+)"><title>')


_PATTERN = re.compile(r'<pattern id="([^"]+)"(.*?)</pattern>')


def _looks(svg, tag):
    """Each drawn line's (colour, dash), or each bar's (fill, outline), in order; a
    patterned fill is told by what its pattern draws, not by its id."""
    if tag == "polyline":
        return _LINE.findall(svg)
    patterns = dict(_PATTERN.findall(svg))
    return [
        (patterns.get(fill[5:-1], fill) if fill.startswith("url(") else fill, outline)
        for fill, outline in _BAR.findall(svg)
    ]


def test_a_fifth_line_is_drawn_named_and_in_the_table():
    chart = line_chart("Five", ["Oct", "Nov"], _series(5))
    looks = _looks(chart.svg, "polyline")
    assert len(looks) == 5
    assert len(set(looks)) == 5
    assert "Series 4, Nov: 5</title>" in chart.svg
    assert ">Series 4</text>" in chart.svg
    assert chart.headers[-1] == "Series 4"
    assert chart.rows[1][-1] == "5"


def test_a_fifth_set_of_bars_is_drawn_named_and_in_the_table():
    chart = bar_chart("Five", ["Oct", "Nov"], _series(5))
    bars = _looks(chart.svg, "rect")
    assert len(bars) == 5 * 2
    assert len(set(bars)) == 5
    assert "Series 4, Oct: 4</title>" in chart.svg
    assert ">Series 4</text>" in chart.svg
    assert chart.headers[-1] == "Series 4"


@pytest.mark.parametrize("draw", [line_chart, bar_chart])
def test_every_series_up_to_the_limit_looks_different(draw):
    chart = draw("Many", ["Oct", "Nov"], _series(MAX_SERIES))
    tag = "polyline" if draw is line_chart else "rect"
    looks = _looks(chart.svg, tag)
    assert len(set(looks)) == MAX_SERIES
    for n in range(MAX_SERIES):
        assert f">Series {n}</text>" in chart.svg
    # Patterns a bar refers to are defined in this chart.
    for pattern_id in re.findall(r'fill="url\(#([^)]+)\)"', chart.svg):
        assert f'<pattern id="{pattern_id}"' in chart.svg


def _grid_top(svg):
    return min(float(y) for y in re.findall(r'<line x1="64" x2="624" y1="([0-9.]+)"', svg))


def _height(svg):
    return int(re.search(r'viewBox="0 0 640 (\d+)"', svg)[1])


def test_a_long_legend_wraps_and_moves_the_plot_down():
    few = line_chart("Few", ["Oct"], _series(1, labels=1))
    many = line_chart("Many", ["Oct"], _series(MAX_SERIES, labels=1))
    names = re.findall(r'<text x="([0-9.]+)" y="([0-9.]+)">(Series \d+)</text>', many.svg)
    assert len(names) == MAX_SERIES
    # Every name starts inside the picture, over several rows above the plot.
    assert all(float(x) + 8 * len(name) <= 640 for x, _y, name in names)
    rows = {float(y) for _x, y, _name in names}
    assert len(rows) > 1
    assert _grid_top(many.svg) > max(rows)
    # The picture grows by the extra rows; the plot keeps its height.
    assert _height(many.svg) - _height(few.svg) == _grid_top(many.svg) - _grid_top(few.svg)


@pytest.mark.parametrize("draw", [line_chart, bar_chart])
def test_more_series_than_can_be_told_apart_are_refused(draw):
    with pytest.raises(ValueError, match=f"at most {MAX_SERIES} series, not {MAX_SERIES + 1}"):
        draw("Too many", ["Oct"], _series(MAX_SERIES + 1, labels=1))


@pytest.mark.parametrize("draw", [line_chart, bar_chart])
def test_a_series_without_one_value_per_label_is_refused(draw):
    with pytest.raises(ValueError, match="3 values for 2 labels"):
        draw("Odd", ["Oct", "Nov"], [Series("Odd", [1, 2, 3])])
