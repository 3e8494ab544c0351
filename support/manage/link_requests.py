"""A reader asks for a manage link: owe them a mail if they are a supporter.

Known or not, the request does the same work — one lookup, one outbox row,
one commit — so neither the page nor its timing says whether an address
belongs to a supporter. For an unknown address the row is recorded as
"skipped" and holds no address, only that someone asked.
"""

from __future__ import annotations

import logging
import secrets

import sqlalchemy as sa

from support.extensions import db
from support.models import OutboundEmail, Supporter, utcnow

log = logging.getLogger(__name__)


def find_supporter(email: str) -> Supporter | None:
    """The supporter with this address (case-insensitive), or None."""
    address = email.strip().lower()
    if not address:
        return None
    # The ledger stores addresses trimmed and lowercase, so the unique index answers.
    return db.session.scalar(sa.select(Supporter).where(Supporter.email == address))


def can_manage(supporter: Supporter | None) -> bool:
    """Only a supporter with a Stripe customer, not erased, has a portal to open."""
    return (
        supporter is not None
        and supporter.erased_at is None
        and bool(supporter.email)
        and bool(supporter.stripe_customer_id)
    )


def request_link(email: str, lang: str) -> int:
    """Record the request; the id of the outbox row to send after the response."""
    supporter = find_supporter(email)
    known = can_manage(supporter)
    stamp = f"{utcnow():%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
    row = OutboundEmail(
        key=f"manage:{supporter.id if known else '-'}:{stamp}",
        kind="manage_link",
        supporter_id=supporter.id if known else None,
        lang=lang,
        context="{}",
        status="pending" if known else "skipped",
        last_error=None if known else "no supporter to manage for that address",
    )
    db.session.add(row)
    db.session.commit()
    return row.id
