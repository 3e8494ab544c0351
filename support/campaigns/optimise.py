"""Which banner variant pays: Beta-Binomial estimates and Thompson-sampling weights.

Each variant's rate of paid checkouts per impression gets a Beta(1 + paid,
1 + impressions - paid) posterior (a uniform prior). Drawing from every
variant's posterior many times gives, at once, a 95% credible interval for each
rate and the probability that each variant is the best. With optimise on, a
campaign's weights follow those probabilities (Thompson sampling: banner.js
draws a variant by weight, so each variant is shown about as often as it is
likely to be the best), with a floor so no variant starves, recomputed at most
hourly by the worker. The server keeps no state per reader.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from support.extensions import db
from support.models import BannerDailyStat, Campaign, CheckoutAttempt, utcnow

DRAWS = 10_000
FLOOR = 0.10
EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class Arm:
    """One variant's evidence and what it says."""

    name: str
    impressions: int
    paid: int
    mean: float = 0.0
    low: float = 0.0
    high: float = 0.0
    p_best: float = 0.0


def estimate(counts: list[tuple[str, int, int]], draws: int = DRAWS, seed=0) -> list[Arm]:
    """Posterior mean, 95% credible interval and P(best) of each (name, impressions, paid).

    Seeded, so the same counts give the same figures on every page view.
    """
    rng = random.Random(seed)
    samples = []
    for _name, impressions, paid in counts:
        paid = min(paid, impressions) if impressions else paid
        alpha, beta = 1 + paid, 1 + max(impressions - paid, 0)
        samples.append([rng.betavariate(alpha, beta) for _ in range(draws)])
    wins = [0] * len(counts)
    for row in zip(*samples, strict=True):
        wins[max(range(len(row)), key=row.__getitem__)] += 1
    arms = []
    for (name, impressions, paid), drawn, won in zip(counts, samples, wins, strict=True):
        drawn.sort()
        alpha, beta = 1 + paid, 1 + max(impressions - paid, 0)
        arms.append(
            Arm(
                name=name,
                impressions=impressions,
                paid=paid,
                mean=alpha / (alpha + beta),
                low=drawn[int(0.025 * draws)],
                high=drawn[int(0.975 * draws) - 1],
                p_best=won / draws,
            )
        )
    return arms


# A variant is ranked on what happened only once it was shown this often: before,
# one lucky (or unlucky) reader would decide its place.
MIN_IMPRESSIONS = 1000
# How sure the model must be that the leader is the best for a decision.
CERTAIN = 0.95
# z for a two-sided 5% test plus z for 80% power: the usual sample size for telling
# two rates apart.
Z_TOTAL = 1.96 + 0.84
MAX_NEEDED = 100_000_000


@dataclass(frozen=True)
class Verdict:
    """Whether the evidence names a best variant, and if not, how much more it needs."""

    leader: str | None  # the best variant, once decided
    certainty: float  # the leader's chance of being the best
    more_impressions: int  # 0 once decided


def impressions_per_variant(rate_a: float, rate_b: float) -> int:
    """Impressions each of two variants needs for their rates to be told apart."""
    gap = abs(rate_a - rate_b)
    if gap == 0:
        return MAX_NEEDED
    spread = rate_a * (1 - rate_a) + rate_b * (1 - rate_b)
    return min(math.ceil(Z_TOTAL**2 * spread / gap**2), MAX_NEEDED)


def verdict(arms: list[Arm]) -> Verdict:
    """A decision once every variant was shown MIN_IMPRESSIONS times and one is the best
    with CERTAIN probability; until then, about how many more impressions (all variants
    together) it needs: each up to MIN_IMPRESSIONS, and enough to tell the two leading
    estimates apart."""
    if not arms:
        return Verdict(None, 0.0, 0)
    best = max(arms, key=lambda arm: arm.p_best)
    enough = all(arm.impressions >= MIN_IMPRESSIONS for arm in arms)
    if enough and best.p_best >= CERTAIN:
        return Verdict(best.name, best.p_best, 0)
    if len(arms) == 1:
        return Verdict(None, best.p_best, max(MIN_IMPRESSIONS - best.impressions, 0))
    first, second = sorted(arms, key=lambda arm: arm.mean, reverse=True)[:2]
    each = max(MIN_IMPRESSIONS, impressions_per_variant(first.mean, second.mean))
    more = sum(max(each - arm.impressions, 0) for arm in arms)
    # Enough shown by that rule, yet not certain: at least another round for each.
    return Verdict(None, best.p_best, more or MIN_IMPRESSIONS * len(arms))


def weights(arms: list[Arm], floor: float = FLOOR) -> dict[str, float]:
    """Weights from P(best), each at least `floor` (less when there are too many variants)."""
    if not arms:
        return {}
    floor = min(floor, 1 / len(arms))
    spare = 1 - floor * len(arms)
    return {arm.name: round(floor + spare * arm.p_best, 4) for arm in arms}


def campaign_counts(slug: str, names: list[str], since: datetime | None = None) -> list[tuple]:
    """(name, impressions, paid checkouts) per variant of a campaign, since `since`."""
    shown = sa.select(BannerDailyStat.variant, sa.func.sum(BannerDailyStat.impressions)).where(
        BannerDailyStat.campaign == slug
    )
    paid = sa.select(CheckoutAttempt.variant, sa.func.count()).where(
        CheckoutAttempt.campaign == slug, CheckoutAttempt.completed_at.is_not(None)
    )
    if since is not None:
        shown = shown.where(BannerDailyStat.day >= since.date())
        paid = paid.where(CheckoutAttempt.created_at >= since)
    impressions = dict(db.session.execute(shown.group_by(BannerDailyStat.variant)).all())
    conversions = dict(db.session.execute(paid.group_by(CheckoutAttempt.variant)).all())
    return [(n, int(impressions.get(n) or 0), int(conversions.get(n) or 0)) for n in names]


def optimise(campaign: Campaign, now: datetime | None = None) -> dict:
    """Recompute and store a campaign's weights; what was stored (weights and evidence)."""
    from support.campaigns.store import document

    now = now or utcnow()
    doc = document(campaign)
    names = [v["name"] for v in doc["banner"]["variants"]]
    arms = estimate(campaign_counts(campaign.slug, names), seed=campaign.slug)
    result = {
        "weights": weights(arms),
        "arms": [asdict(arm) for arm in arms],
        "draws": DRAWS,
        "floor": FLOOR,
    }
    campaign.weights = json.dumps(result)
    campaign.weights_at = now
    return result


def refresh_due(now: datetime | None = None) -> list[str]:
    """Re-optimise every running campaign with optimise on whose weights are older than
    an hour; commits; the slugs done (the worker calls this between events)."""
    now = now or utcnow()
    done = []
    for campaign in db.session.scalars(sa.select(Campaign).where(Campaign.status == "live")):
        if not json.loads(campaign.content)["banner"]["optimise"]:
            continue
        if campaign.weights_at and now - campaign.weights_at < EVERY:
            continue
        optimise(campaign, now)
        done.append(campaign.slug)
    db.session.commit()
    return done


def explained(campaign: Campaign) -> dict | None:
    """The stored weights and the evidence behind them, for staff; None before the first run."""
    if not campaign.weights:
        return None
    return {**json.loads(campaign.weights), "computed_at": campaign.weights_at}
