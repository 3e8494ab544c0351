"""Where the Billing Portal sends a supporter back: what changed, read from the ledger.

The portal's return URL carries a signed, day-long token naming the supporter,
so the page can show their gifts as the ledger has them without asking Stripe
(the ledger catches up through webhooks within moments). The token shows only
amounts and states, never an address, and opens nothing.
"""

from __future__ import annotations

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


def return_token(supporter_id: int) -> str:
    """The token the portal's return URL carries for `supporter_id`."""
    return _serializer().dumps(supporter_id)


def read_return_token(token: str | None) -> int | None:
    """The supporter a return token names; None when missing, forged or too old."""
    if not token:
        return None
    try:
        supporter_id = _serializer().loads(token, max_age=MAX_AGE)
    except BadSignature:  # SignatureExpired is one too
        return None
    return supporter_id if isinstance(supporter_id, int) else None


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
