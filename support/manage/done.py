"""Where the Billing Portal sends a supporter back: what changed, read from the ledger.

The portal's return URL carries a signed, day-long token naming the supporter
and a digest of their gifts as the ledger had them when the portal opened, so
the page can say whether anything changed ("Your changes are saved" only when
something did) and show the gifts without asking Stripe (the ledger catches up
through webhooks within moments). The token shows only amounts and states,
never an address, and opens nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from support.extensions import db
from support.models import Subscription, Supporter

SALT = "support.manage.portal-return"
MAX_AGE = 24 * 3600
# Enough for anyone's history; the page is not an archive.
SHOWN = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


# What the page says: something changed since the portal opened, nothing did (yet),
# or it cannot tell (no token, or one from before tokens carried the digest).
CHANGED, UNCHANGED, UNKNOWN = "changed", "unchanged", "unknown"


@dataclass(frozen=True)
class PortalReturn:
    """What a return token says: whose gifts, and their digest when the portal opened."""

    supporter_id: int | None
    before: str | None = None


def gifts_digest(supporter_id: int) -> str:
    """A short digest of what a supporter can change in the portal, for every gift."""
    rows = db.session.execute(
        sa.select(
            Subscription.stripe_id,
            Subscription.status,
            Subscription.amount,
            Subscription.currency,
            Subscription.interval,
            Subscription.cancel_at_period_end,
            Subscription.collection_paused,
            Subscription.card_last4,
            Subscription.card_exp_month,
            Subscription.card_exp_year,
        )
        .where(Subscription.supporter_id == supporter_id)
        .order_by(Subscription.stripe_id)
    )
    text = json.dumps([list(row) for row in rows], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def return_token(supporter_id: int) -> str:
    """The token the portal's return URL carries for `supporter_id` (reads the ledger:
    make it before Stripe is asked, so no transaction waits on Stripe)."""
    return _serializer().dumps({"s": supporter_id, "d": gifts_digest(supporter_id)})


def read_return_token(token: str | None) -> PortalReturn:
    """What a return token says; an empty `PortalReturn` when missing, forged or too old."""
    if not token:
        return PortalReturn(None)
    try:
        data = _serializer().loads(token, max_age=MAX_AGE)
    except BadSignature:  # SignatureExpired is one too
        return PortalReturn(None)
    if isinstance(data, int) and not isinstance(data, bool):  # made before the digest
        return PortalReturn(data)
    if isinstance(data, dict) and isinstance(data.get("s"), int):
        digest = data.get("d")
        return PortalReturn(data["s"], digest if isinstance(digest, str) else None)
    return PortalReturn(None)


def outcome(back: PortalReturn) -> str:
    """CHANGED, UNCHANGED or UNKNOWN: the ledger now against the digest in the token."""
    if back.supporter_id is None or back.before is None:
        return UNKNOWN
    supporter = db.session.get(Supporter, back.supporter_id)
    if supporter is None or supporter.erased_at is not None:
        return UNKNOWN
    return UNCHANGED if gifts_digest(back.supporter_id) == back.before else CHANGED


def current_gifts(supporter_id: int | None) -> list[Subscription]:
    """The supporter's latest subscriptions as the ledger has them (none once erased)."""
    if supporter_id is None:
        return []
    supporter = db.session.get(Supporter, supporter_id)
    if supporter is None or supporter.erased_at is not None:
        return []
    query = (
        sa.select(Subscription)
        .where(Subscription.supporter_id == supporter_id)
        .order_by(Subscription.started_at.desc(), Subscription.id.desc())
        .limit(SHOWN)
    )
    return list(db.session.scalars(query))
