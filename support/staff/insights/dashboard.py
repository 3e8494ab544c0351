"""The dashboard's charts, built from `support.stats.history` points."""

from __future__ import annotations

from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _

from support.formatting import format_money
from support.staff.insights.charts import Chart, Series, bar_chart, line_chart
from support.stats.history import MonthPoint


def month_label(point: MonthPoint) -> str:
    """ "Mar 26" in English, the Arabic month name in Arabic."""
    return format_date(point.month, "MMM yy")


def cohort_label(month_iso: str) -> str:
    """A cohort's month ("2026-03-01") as "Mar 2026", in the page's language."""
    return format_date(date.fromisoformat(month_iso), "MMM y")


def build_charts(points: list[MonthPoint]) -> list[Chart]:
    """Supporters over the year, MRR per currency over the year, new vs canceled per month."""
    labels = [month_label(p) for p in points]
    charts = [
        line_chart(
            _("Running subscriptions at each month's end, last 12 months"),
            labels,
            [Series(_("Subscriptions"), [p.subscriptions for p in points])],
            fmt=lambda v: f"{v:,}",
        )
    ]
    currencies = sorted({c for p in points for c in p.mrr})
    for currency in currencies:
        charts.append(
            line_chart(
                _("Monthly recurring revenue in %(currency)s, last 12 months",
                  currency=currency.upper()),
                labels,
                [Series(_("MRR"), [p.mrr.get(currency, 0) for p in points])],
                fmt=lambda v, c=currency: format_money(v, c),
            )
        )  # fmt: skip
    charts.append(
        bar_chart(
            _("Subscriptions started and canceled per month"),
            labels,
            [
                Series(_("Started"), [p.started for p in points]),
                Series(_("Canceled"), [p.canceled for p in points]),
            ],
            fmt=lambda v: f"{v:,}",
        )
    )
    return charts
