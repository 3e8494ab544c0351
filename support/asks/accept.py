"""Accepting an ask: the mailed link's button raises that one gift from the next payment.

The link names a recipient row (one ask, one supporter, one subscription, the new
amount). Pressing the button claims the row (`accepted_at` set where it was
empty, committed, so of two presses exactly one wins), then asks Stripe for the
amount through the account page's own change (support/account/actions.py: the
price replaced, no proration, recorded as the supporter's change, applied and
confirmed by mail when the webhook shows it). If Stripe does not do it the claim
is given back, so the same link can be pressed again.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from support.account import actions
from support.extensions import db
from support.models import Subscription, Supporter, SupporterChange, UpgradeAskRecipient, utcnow
from support.portal_links import can_manage


class Refused(Exception):
    """The link cannot raise the gift; `reason` says why (a page for each)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def change_key(recipient: UpgradeAskRecipient) -> str:
    """The change's key: one per recipient, so the link asks Stripe once."""
    return hashlib.sha256(f"upgrade-ask:{recipient.id}".encode()).hexdigest()


def check(recipient: UpgradeAskRecipient | None) -> Subscription:
    """The gift the link raises, if it still can be; else `Refused`."""
    if recipient is None:
        raise Refused("invalid")
    if recipient.accepted_at is not None:
        raise Refused("used")
    supporter = db.session.get(Supporter, recipient.supporter_id)
    sub = db.session.get(Subscription, recipient.subscription_id)
    if not can_manage(supporter) or sub is None or sub.currency != recipient.currency:
        raise Refused("not_now")
    if "amount" not in actions.available(sub) or sub.interval != recipient.interval:
        raise Refused("not_now")
    if sub.amount >= recipient.new_amount:
        raise Refused("raised")
    return sub


def _claim(recipient_id: int) -> bool:
    result = db.session.execute(
        sa.update(UpgradeAskRecipient)
        .where(UpgradeAskRecipient.id == recipient_id, UpgradeAskRecipient.accepted_at.is_(None))
        .values(accepted_at=utcnow())
    )
    db.session.commit()
    return result.rowcount == 1


def _release(recipient_id: int) -> None:
    db.session.execute(
        sa.update(UpgradeAskRecipient)
        .where(UpgradeAskRecipient.id == recipient_id)
        .values(accepted_at=None)
    )
    db.session.commit()


def accept(recipient_id: int, lang: str) -> SupporterChange:
    """Raise the gift (once); the change asked of Stripe.

    Raises `Refused`, or what `stripe_api` raises (the claim given back)."""
    recipient = db.session.get(UpgradeAskRecipient, recipient_id)
    check(recipient)
    if not _claim(recipient_id):
        raise Refused("used")
    recipient = db.session.get(UpgradeAskRecipient, recipient_id)
    sub = db.session.get(Subscription, recipient.subscription_id)
    ask = actions.Ask("amount", amount=recipient.new_amount, interval=recipient.interval)
    try:
        return actions.request_keyed_change(change_key(recipient), sub, ask, lang)
    except actions.ActionRefused:
        db.session.rollback()
        _release(recipient_id)
        raise Refused("not_now") from None
    except Exception:
        db.session.rollback()
        _release(recipient_id)
        raise
