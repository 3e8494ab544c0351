"""Which campaigns run now: for the appeal, `banner.json` and the beacons.

Reader requests read a per-process snapshot of the published campaigns, kept for
`SUPPORT_BANNER_CACHE_SECONDS` (30 s) or until the next start or end time, whichever
comes first, so a campaign published by an editor reaches readers within that time
without a restart, and a reader request costs no query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from support.campaigns.document import DEFAULT_SLUG
from support.extensions import db
from support.models import Campaign, utcnow
from support.process_cache import ProcessCache, deadline


@dataclass(frozen=True)
class LiveCampaign:
    """A published campaign running now, as readers get it."""

    slug: str
    doc: dict
    weights: dict[str, float]
    started: datetime

    @property
    def prefixes(self) -> list[str]:
        return self.doc["targeting"]["url_prefixes"]

    def targets(self, lang: str) -> bool:
        return lang in self.doc["targeting"]["langs"]


@dataclass(frozen=True)
class Snapshot:
    running: tuple[LiveCampaign, ...] = ()
    # Campaigns a beacon may count: running, or published before (a cached banner
    # may still show one for a few minutes after it ended).
    variants: dict[str, frozenset[str]] = field(default_factory=dict)
    expires: float = 0.0


# This process's snapshot; the banner's content follows it (support/banner/content.py).
SNAPSHOTS: ProcessCache[Snapshot] = ProcessCache("live_campaigns")


def effective_weights(campaign: Campaign, doc: dict) -> dict[str, float]:
    """The optimiser's weights when it is on and has run, else the editor's."""
    configured = {v["name"]: v["weight"] for v in doc["banner"]["variants"]}
    if doc["banner"]["optimise"] and campaign.weights:
        learned = json.loads(campaign.weights).get("weights", {})
        if set(learned) == set(configured):
            return learned
    return configured


def load(now: datetime | None = None) -> Snapshot:
    """Read the published campaigns from the database."""
    from support.campaigns.store import document

    now = now or utcnow()
    ttl = current_app.config["SUPPORT_BANNER_CACHE_SECONDS"]
    expires_in = float(ttl)
    running, variants = [], {}
    campaigns = db.session.scalars(
        sa.select(Campaign).where(Campaign.status.in_(("live", "ended"))).order_by(Campaign.id)
    )
    for campaign in campaigns:
        doc = document(campaign)
        variants[campaign.slug] = frozenset(v["name"] for v in doc["banner"]["variants"])
        if campaign.status != "live":
            continue
        for moment in (campaign.starts_at, campaign.ends_at):
            if moment and moment > now:  # the snapshot lapses when this campaign starts or ends
                expires_in = min(expires_in, (moment - now).total_seconds())
        if campaign.starts_at and campaign.starts_at > now:
            continue
        if campaign.ends_at and campaign.ends_at <= now:
            continue
        started = campaign.starts_at or campaign.created_at
        running.append(LiveCampaign(campaign.slug, doc, effective_weights(campaign, doc), started))
    # Campaigns aimed at some articles come before those for every article, the
    # most specific first; then the most recently started.
    running.sort(
        key=lambda c: (-max((len(p) for p in c.prefixes), default=0), -c.started.timestamp())
    )
    return Snapshot(tuple(running), variants, deadline(max(expires_in, 0.0)))


def snapshot() -> Snapshot:
    """This process's snapshot, read again once it lapsed (at its `expires`)."""
    return SNAPSHOTS.get(load, until=lambda kept: kept.expires)


def forget() -> None:
    """Drop this process's snapshot and what was built on it (the banner's content)
    after an editor's change, so readers see it at once."""
    SNAPSHOTS.forget()


def running(lang: str) -> list[LiveCampaign]:
    """The campaigns running now for readers of `lang`, in the banner's order."""
    return [c for c in snapshot().running if c.targets(lang)]


def for_appeal(slug: str | None, lang: str) -> LiveCampaign | None:
    """The campaign the appeal shows: the one a link names, if it runs now for `lang`;
    without a name, the newest running campaign aimed at every article.

    An ended, draft, unknown or default (`banner`) name gets the default appeal (None).
    """
    campaigns = running(lang)
    if slug:
        return next((c for c in campaigns if c.slug == slug), None)
    return next((c for c in campaigns if not c.prefixes), None)


def known_variant(campaign: str, variant: str) -> bool:
    """Whether a beacon names a variant of a published campaign (not the default's)."""
    return campaign != DEFAULT_SLUG and variant in snapshot().variants.get(campaign, ())


def instead_of(slug: str, lang: str) -> LiveCampaign | None:
    """What readers of `lang` get where campaign `slug` shows now, once it stops: the
    first other running campaign for the same articles (banner.js's order); None for
    the default campaign (from the settings)."""
    own = next((c for c in running(lang) if c.slug == slug), None)
    prefixes = own.prefixes if own else []

    def covers(other: LiveCampaign) -> bool:
        if not other.prefixes:
            return True
        return bool(prefixes) and any(p.startswith(q) for p in prefixes for q in other.prefixes)

    return next((c for c in running(lang) if c.slug != slug and covers(c)), None)
