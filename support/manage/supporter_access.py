"""Which supporters (Stripe customers) this browser may act for: proven, never typed.

Anyone can type any address at Checkout, so an address alone opens nothing.
A browser may act for a supporter on one of two proofs:

- **It paid.** The browser started a checkout (`browser_checkouts`, in its
  signed session cookie) that the ledger completed less than a day ago: it may
  act for the Stripe customer that paid that session (`CheckoutAttempt.
  stripe_customer_id`, from the completed session), and only that one. The
  thanks page's link opens a supporter session for that customer alone
  (`customer_only`): the address typed at Checkout proves nothing.
- **It holds the mailbox.** A mailed manage link, spent by a POST, opens a
  supporter session of 30 minutes for the address the link was mailed to: the
  browser may act for every supporter row (one per Stripe customer) with that
  address. The session is a row in `supporter_session`; the cookie holds a
  random token of which only the hash is stored, and "Sign out" ends the row,
  so a session can be revoked. The row keeps a keyed digest of the address,
  not the address: erasure, or the address changing at Stripe, ends it.

The thanks page, the account page and the Billing Portal buttons all ask
`may_act_for`; nothing else decides.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g, session

from support.addresses import normalise_email
from support.extensions import db
from support.manage import browser_checkouts
from support.models import CheckoutAttempt, Supporter, SupporterSession, utcnow
from support.portal_links import can_manage

SESSION_KEY = "supporter_session"
SESSION_LIFETIME = timedelta(minutes=30)
# The paying browser may act for its gift's customer this long after the payment.
THANKS_WINDOW = timedelta(days=1)


def address_digest(address: str) -> str:
    """A keyed digest of a normalised address (the session row keeps no address)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, normalise_email(address).encode(), hashlib.sha256).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# The mailbox proof: supporter sessions.


def open_session(supporter: Supporter, lang: str, customer_only: bool = False) -> None:
    """Start a supporter session proving `supporter`'s address, in this browser (committed);
    `customer_only`: covering that one supporter (the paying browser's proof).

    Replaces any session this browser had; the old row is ended.
    """
    end_session(commit=False)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        SupporterSession(
            token_hash=_token_hash(token),
            supporter_id=supporter.id,
            address_digest=address_digest(supporter.email or ""),
            lang=lang,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
            customer_only=customer_only,
        )
    )
    # Sessions long over are of no use to anyone.
    db.session.execute(
        sa.delete(SupporterSession).where(SupporterSession.expires_at < now - timedelta(days=1))
    )
    db.session.commit()
    session[SESSION_KEY] = token
    g.pop("supporter_session", None)


def current_session() -> SupporterSession | None:
    """This browser's live supporter session, or None (expired, ended, or its address gone)."""
    if "supporter_session" in g:
        return g.supporter_session
    found = None
    token = session.get(SESSION_KEY)
    if isinstance(token, str) and token:
        row = db.session.scalar(
            sa.select(SupporterSession).where(SupporterSession.token_hash == _token_hash(token))
        )
        if row is not None and row.ended_at is None and row.expires_at > utcnow():
            owner = db.session.get(Supporter, row.supporter_id)
            if can_manage(owner) and hmac.compare_digest(
                address_digest(owner.email), row.address_digest
            ):
                found = row
    g.supporter_session = found
    return found


def proven_address() -> str | None:
    """The address this browser proved within the last 30 minutes, or None."""
    row = current_session()
    if row is None:
        return None
    return db.session.get(Supporter, row.supporter_id).email


def end_session(commit: bool = True) -> None:
    """Sign out: end this browser's supporter session, here and in the database."""
    token = session.pop(SESSION_KEY, None)
    g.pop("supporter_session", None)
    if isinstance(token, str) and token:
        db.session.execute(
            sa.update(SupporterSession)
            .where(
                SupporterSession.token_hash == _token_hash(token),
                SupporterSession.ended_at.is_(None),
            )
            .values(ended_at=utcnow())
        )
        if commit:
            db.session.commit()


def address_supporters(address: str | None) -> list[Supporter]:
    """Every supporter row (Stripe customer) with this address, oldest first, none erased."""
    address = normalise_email(address)
    if not address:
        return []
    query = (
        sa.select(Supporter)
        .where(Supporter.email == address, Supporter.erased_at.is_(None))
        .order_by(Supporter.id)
    )
    return list(db.session.scalars(query))


def account_supporters() -> list[Supporter]:
    """The supporters this browser's session covers: every one under the proven
    address, or the paying customer alone (empty without a supporter session)."""
    row = current_session()
    if row is None:
        return []
    if row.customer_only:
        return [db.session.get(Supporter, row.supporter_id)]
    return [s for s in address_supporters(proven_address()) if can_manage(s)]


# The paying browser.


def paying_supporter(session_id: str | None) -> Supporter | None:
    """The supporter of a checkout this browser started and the ledger completed
    within THANKS_WINDOW: the Checkout Session's own customer, never one found by
    address. None otherwise."""
    if not browser_checkouts.started_here(session_id):
        return None
    attempt = db.session.scalar(
        sa.select(CheckoutAttempt).where(CheckoutAttempt.session_id == session_id)
    )
    if attempt is None or attempt.completed_at is None or attempt.supporter_id is None:
        return None
    if utcnow() - attempt.completed_at >= THANKS_WINDOW:
        return None
    supporter = db.session.get(Supporter, attempt.supporter_id)
    if not can_manage(supporter) or supporter.stripe_customer_id != attempt.stripe_customer_id:
        # The ledger's supporter must be the customer that paid this session.
        return None
    return supporter


def may_act_for(supporter_id: int | None) -> Supporter | None:
    """The supporter, if this browser proved it may act for them; else None."""
    if supporter_id is None:
        return None
    for supporter in account_supporters():
        if supporter.id == supporter_id:
            return supporter
    for session_id in browser_checkouts.started():
        supporter = paying_supporter(session_id)
        if supporter is not None and supporter.id == supporter_id:
            return supporter
    return None
