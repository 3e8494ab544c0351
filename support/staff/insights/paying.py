"""Which variant pays: per campaign, what happened first, then what the model makes of it.

Built on the funnel's counts (`funnel.funnel`) summed over languages: impressions,
clicks, paid and the observed rate of each variant; beside them each rate's model
estimate with its 95% credible interval and chance of being the best
(`campaigns.optimise`), the monthly revenue its new supporters added, and the share
of readers it gets now. Variants are ranked on their observed rate only once shown
`optimise.MIN_IMPRESSIONS` times (an estimate from one impression ranks nothing),
and each campaign says whether the evidence decides and, if not, how many more
impressions a decision needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app

from support.campaigns import optimise
from support.campaigns.document import DEFAULT_SLUG
from support.extensions import db
from support.models import Campaign, Subscription
from support.staff.insights.funnel import NO_VARIANT, FunnelRow, period_bounds
from support.stats.figures import divide_x12, monthly_x12

# Fewer draws than the optimiser's: a page view should stay quick, and two decimals
# of a probability need no more.
DRAWS = 4000


@dataclass
class VariantResult:
    name: str
    impressions: int = 0
    clicks: int = 0
    started: int = 0
    paid: int = 0
    revenue: dict[str, int] = field(default_factory=dict)  # monthly, minor units per currency
    share: float | None = None  # of readers shown this campaign, now
    arm: optimise.Arm | None = None
    rank: int | None = None  # None: too few impressions to rank

    @property
    def observed(self) -> float | None:
        """Paid checkouts per 1,000 impressions, as counted (None before any impression)."""
        return 1000 * self.paid / self.impressions if self.impressions else None


@dataclass
class CampaignResult:
    slug: str
    name: str | None  # None: the default campaign
    variants: list[VariantResult]
    weights: dict | None = None  # the optimiser's last run, when it is on
    verdict: optimise.Verdict | None = None


def _revenue(start, end) -> dict[tuple[str, str], dict[str, int]]:
    """Monthly revenue of subscriptions started in [start, end), per (campaign, variant)."""
    rows = db.session.execute(
        sa.select(
            Subscription.campaign,
            Subscription.variant,
            Subscription.currency,
            sa.func.sum(monthly_x12()),
        )
        .where(Subscription.started_at >= start, Subscription.started_at < end)
        .where(Subscription.variant.is_not(None))
        .group_by(Subscription.campaign, Subscription.variant, Subscription.currency)
    )
    revenue: dict[tuple[str, str], dict[str, int]] = {}
    for campaign, variant, currency, total in rows:
        revenue.setdefault((campaign or "", variant), {})[currency] = divide_x12(int(total or 0))
    return revenue


def _shares(slug: str, names: list[str]) -> tuple[str | None, dict[str, float], dict | None]:
    """The campaign's name, each variant's share of readers now, and the optimiser's run."""
    if slug == DEFAULT_SLUG:
        configured = {v["name"]: v["weight"] for v in current_app.config["SUPPORT_BANNER_VARIANTS"]}
        name, explained = None, None
    else:
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == slug))
        if campaign is None:
            return slug, {}, None
        content = json.loads(campaign.content)
        configured = {v["name"]: v["weight"] for v in content["banner"]["variants"]}
        name = campaign.name
        explained = optimise.explained(campaign) if content["banner"]["optimise"] else None
        if explained and set(explained["weights"]) == set(configured):
            configured = explained["weights"]
    total = sum(configured.values()) or 1
    return name, {n: w / total for n, w in configured.items()}, explained


def results(rows: list[FunnelRow], days: int, today: date) -> list[CampaignResult]:
    """Every campaign with banner counts in the period, its variants ranked best first."""
    _, start, end = period_bounds(days, today)
    revenue = _revenue(start, end)
    grouped: dict[str, dict[str, VariantResult]] = {}
    for row in rows:
        if row.variant == NO_VARIANT:
            continue
        campaign = row.campaign or DEFAULT_SLUG
        result = grouped.setdefault(campaign, {}).setdefault(
            row.variant, VariantResult(row.variant)
        )
        result.impressions += row.impressions
        result.clicks += row.clicks
        result.started += row.started
        result.paid += row.paid
    out = []
    for slug, variants in grouped.items():
        for result in variants.values():
            result.revenue = revenue.get((slug, result.name), {})
        arms = optimise.estimate(
            [(v.name, v.impressions, v.paid) for v in variants.values()], draws=DRAWS, seed=slug
        )
        name, shares, explained = _shares(slug, list(variants))
        for arm in arms:
            variants[arm.name].arm = arm
            variants[arm.name].share = shares.get(arm.name)
        out.append(CampaignResult(slug, name, ranked(variants), explained, optimise.verdict(arms)))
    # The default campaign last; the others by name.
    return sorted(out, key=lambda c: (c.slug == DEFAULT_SLUG, c.name or ""))


def ranked(variants: dict[str, VariantResult]) -> list[VariantResult]:
    """Variants shown often enough, best observed rate first, numbered; then the others
    (most shown first), unranked."""
    enough = [v for v in variants.values() if v.impressions >= optimise.MIN_IMPRESSIONS]
    enough.sort(key=lambda v: (-v.observed, -v.impressions, v.name))
    for place, variant in enumerate(enough, start=1):
        variant.rank = place
    rest = [v for v in variants.values() if v.impressions < optimise.MIN_IMPRESSIONS]
    rest.sort(key=lambda v: (-v.impressions, v.name))
    return enough + rest
