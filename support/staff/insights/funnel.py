"""The banner funnel: impressions → clicks → checkouts started → paid.

Impressions and clicks come from the banner's daily counters; checkouts
started and paid from `CheckoutAttempt`, which carries the campaign, the banner
variant and the reader's language. Grouped in the database by all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from support.extensions import db
from support.models import BannerDailyStat, CheckoutAttempt

PERIODS = (7, 30, 90, 365)
NO_VARIANT = ""


@dataclass
class FunnelRow:
    """One campaign's variant in one language over the period."""

    campaign: str
    variant: str
    lang: str
    impressions: int = 0
    clicks: int = 0
    started: int = 0
    paid: int = 0

    def rate(self, numerator: int, denominator: int) -> float | None:
        """A share in per cent, or None when nothing was counted."""
        return round(100 * numerator / denominator, 1) if denominator else None

    @property
    def click_rate(self) -> float | None:
        return self.rate(self.clicks, self.impressions)

    @property
    def paid_rate(self) -> float | None:
        return self.rate(self.paid, self.started)


@dataclass
class SourceRow:
    """An article that sent readers to checkout."""

    source: str
    started: int
    paid: int


def period_bounds(days: int, today: date) -> tuple[date, datetime, datetime]:
    """First day counted, and the same window as aware datetimes [start, end)."""
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(), tzinfo=UTC)
    end = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
    return first, start, end


def funnel(days: int, today: date) -> list[FunnelRow]:
    """Per (campaign, variant, language): the four steps over the last `days` days."""
    first, start, end = period_bounds(days, today)
    rows: dict[tuple[str, str, str], FunnelRow] = {}

    def row(campaign: str | None, variant: str | None, lang: str) -> FunnelRow:
        key = (campaign or NO_VARIANT, variant or NO_VARIANT, lang)
        return rows.setdefault(key, FunnelRow(*key))

    for campaign, variant, lang, shown, clicked in db.session.execute(
        sa.select(
            BannerDailyStat.campaign,
            BannerDailyStat.variant,
            BannerDailyStat.lang,
            sa.func.sum(BannerDailyStat.impressions),
            sa.func.sum(BannerDailyStat.clicks),
        )
        .where(BannerDailyStat.day >= first, BannerDailyStat.day <= today)
        .group_by(BannerDailyStat.campaign, BannerDailyStat.variant, BannerDailyStat.lang)
    ):
        entry = row(campaign, variant, lang)
        entry.impressions, entry.clicks = int(shown or 0), int(clicked or 0)
    for campaign, variant, lang, started, paid in db.session.execute(
        sa.select(
            CheckoutAttempt.campaign,
            CheckoutAttempt.variant,
            CheckoutAttempt.lang,
            sa.func.count(),
            sa.func.count(CheckoutAttempt.completed_at),
        )
        .where(CheckoutAttempt.created_at >= start, CheckoutAttempt.created_at < end)
        .group_by(CheckoutAttempt.campaign, CheckoutAttempt.variant, CheckoutAttempt.lang)
    ):
        entry = row(campaign, variant, lang)
        entry.started, entry.paid = started, paid
    # Banner variants first (by campaign and name), then checkouts without a banner.
    return sorted(
        rows.values(), key=lambda r: (r.variant == NO_VARIANT, r.campaign, r.variant, r.lang)
    )


def top_sources(days: int, today: date, limit: int = 10) -> list[SourceRow]:
    """The articles whose readers paid most often over the period."""
    _, start, end = period_bounds(days, today)
    paid = sa.func.count(CheckoutAttempt.completed_at)
    result = db.session.execute(
        sa.select(CheckoutAttempt.source, sa.func.count(), paid)
        .where(
            CheckoutAttempt.created_at >= start,
            CheckoutAttempt.created_at < end,
            CheckoutAttempt.source.is_not(None),
        )
        .group_by(CheckoutAttempt.source)
        .order_by(paid.desc(), sa.func.count().desc(), CheckoutAttempt.source)
        .limit(limit)
    )
    return [SourceRow(source, started, done) for source, started, done in result]
