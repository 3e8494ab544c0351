"""What the thanks page says about a gift, for at most one Stripe read per session per 10 s.

The thanks URL (`?session_id=cs_…`) is public: anyone can load it again and
again. Asking Stripe on every load let one URL spend the account's whole
request budget, so readers' checkouts and staff refunds met 429s. Here:

- the ledger's answer costs nothing: once the webhook completed the attempt, or
  a read found the session paid in the last hour (remembered in the limiter
  storage, while the worker catches up), the gift is confirmed;
- a session past Stripe's 24-hour lifetime cannot change any more: it is
  answered from the ledger alone;
- otherwise one read per session per `READ_INTERVAL`, counted in
  `RATELIMIT_STORAGE_URI` so every process shares it, and only within the
  readers' share of Stripe's budget (support/stripe_budget.py). Every other
  load gets a page saying the gift is being confirmed, which looks again by
  itself once a read is due.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import timedelta

from limits import RateLimitItemPerSecond
from limits.strategies import FixedWindowRateLimiter

from support import stripe_api
from support.extensions import db, limiter
from support.ledger.checkouts import session_is_paid
from support.models import CheckoutAttempt, utcnow

log = logging.getLogger(__name__)

READ_INTERVAL = 10  # seconds between two Stripe reads of one session, all processes together
PAID_MEMORY = 3600  # seconds a read that found the session paid is remembered
# Stripe expires a Checkout Session 24 hours after it was created (we never ask otherwise).
SESSION_LIFETIME = timedelta(hours=24)

CONFIRMED = "confirmed"  # paid
PENDING = "pending"  # Stripe says not paid yet (a slow payment method), or does not know it
CHECKING = "checking"  # not asked this time: the page looks again in `retry_after` seconds
CLOSED = "closed"  # expired without a payment the ledger knows of

_ONE_READ = RateLimitItemPerSecond(1, READ_INTERVAL)


@dataclass(frozen=True)
class Confirmation:
    """The thanks page's status line, and when the page should look again by itself."""

    status: str
    retry_after: int = 0


def _paid_key(session_id: str) -> str:
    return f"thanks-paid/{session_id}"


def _read_turn(session_id: str) -> int:
    """0 when this request may read the session from Stripe (and counts it), else the
    whole seconds until the next read is due."""
    reads = FixedWindowRateLimiter(limiter.storage)
    if reads.hit(_ONE_READ, "thanks-read", session_id):
        return 0
    reset = reads.get_window_stats(_ONE_READ, "thanks-read", session_id).reset_time
    return max(math.ceil(reset - time.time()), 1)


def known_paid(attempt: CheckoutAttempt) -> bool:
    """Paid as far as we know without asking Stripe: the webhook completed the attempt,
    or a read in the last hour found the session paid."""
    return attempt.completed_at is not None or bool(
        limiter.storage.get(_paid_key(attempt.session_id))
    )


def confirmation(attempt: CheckoutAttempt) -> Confirmation:
    """Where the gift of `attempt` stands, asking Stripe only when a read is due."""
    session_id = attempt.session_id
    if known_paid(attempt):
        return Confirmation(CONFIRMED)
    if utcnow() - attempt.created_at >= SESSION_LIFETIME:
        return Confirmation(CLOSED)
    wait = _read_turn(session_id)
    if wait:
        return Confirmation(CHECKING, wait)
    db.session.rollback()  # no transaction stays open while Stripe answers
    try:
        session = stripe_api.retrieve_checkout_session(session_id)
    except stripe_api.StripeBusy as busy:
        return Confirmation(CHECKING, busy.retry_after)
    except stripe_api.StripeUnavailable as error:
        log.warning("Could not retrieve %s for the thanks page: %s", session_id, error)
        return Confirmation(CHECKING, READ_INTERVAL)
    if session is None:
        return Confirmation(PENDING)
    if session_is_paid(session):
        limiter.storage.incr(_paid_key(session_id), PAID_MEMORY)
        return Confirmation(CONFIRMED)
    if session.get("status") == "expired":
        return Confirmation(CLOSED)
    return Confirmation(PENDING)
