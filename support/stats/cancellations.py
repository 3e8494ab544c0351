"""Why supporters cancel, and how many the one save offer kept, for the dashboard.

Two grouped counts over `supporter_change` within a window, each a range scan of
its (kind, created_at) index. At a million supporters the window holds tens of
thousands of cancellations (tens of milliseconds to count), so the figures are
computed with the dashboard's others, in the snapshot (`support.stats.snapshot`),
and pages serve them from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from support.extensions import db
from support.models import SupporterChange, utcnow

WINDOW = timedelta(days=90)
SAVE_KINDS = ("amount", "frequency", "pause")


@dataclass
class Breakdown:
    """Cancellations per reason (most first) and saves per offer, over `days` days."""

    days: int
    reasons: list[tuple[str, int]] = field(default_factory=list)
    saves: list[tuple[str, int]] = field(default_factory=list)

    @property
    def cancellations(self) -> int:
        return sum(count for _, count in self.reasons)

    @property
    def saved(self) -> int:
        return sum(count for _, count in self.saves)


def _counts(column, kinds: tuple[str, ...], since, *extra) -> list[tuple[str, int]]:
    change = SupporterChange
    count = sa.func.count()
    rows = db.session.execute(
        sa.select(column, count)
        .where(change.kind.in_(kinds), change.created_at >= since, *extra)
        .where(change.failed_at.is_(None))
        .group_by(column)
        .order_by(count.desc(), column)
    )
    return [(value or "other", n) for value, n in rows]


def as_json(found: Breakdown) -> dict:
    """The breakdown as the snapshot keeps it."""
    return {"days": found.days, "reasons": found.reasons, "saves": found.saves}


def from_json(body: dict) -> Breakdown:
    """A breakdown back from the snapshot."""
    return Breakdown(
        days=int(body["days"]),
        reasons=[(str(r), int(n)) for r, n in body["reasons"]],
        saves=[(str(o), int(n)) for o, n in body["saves"]],
    )


def breakdown(now=None) -> Breakdown:
    """The last WINDOW's cancellations by reason, and its saves by offer."""
    since = (now or utcnow()) - WINDOW
    return Breakdown(
        days=WINDOW.days,
        reasons=_counts(SupporterChange.reason, ("cancel",), since),
        saves=_counts(SupporterChange.offer, SAVE_KINDS, since, SupporterChange.saved.is_(True)),
    )
