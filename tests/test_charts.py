"""Server-rendered SVG charts: readable axes and an accessible title."""

import re

from support.staff.charts import Series, bar_chart, line_chart, nice_ceiling


def test_axis_tops_are_round_numbers():
    assert [nice_ceiling(v) for v in (0, 1, 2, 3, 7, 12, 480, 1001)] == [
        2, 2, 2, 5, 10, 20, 500, 2000,
    ]  # fmt: skip


def test_a_chart_of_one_supporter_has_distinct_axis_labels():
    chart = line_chart("Supporters", ["Oct", "Nov"], [Series("Supporters", [0, 1])])
    labels = re.findall(r'text-anchor="end">([^<]*)</text>', chart.svg)
    assert labels == ["0", "1", "2"]
    assert "<title" in chart.svg


def test_bar_heights_follow_the_values():
    chart = bar_chart("Started", ["Oct", "Nov"], [Series("Started", [5, 10])])
    heights = [float(h) for h in re.findall(r'height="([0-9.]+)" fill', chart.svg)]
    assert heights[1] == 2 * heights[0]
