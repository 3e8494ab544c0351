"""A gift made ready for a supporter Stripe already knows, and the links that ask for one.

Two offers send a supporter straight to the pay page with nothing to type but the
card: restarting a gift that ended for non-payment (the "your support has stopped"
mail) and turning a one-time gift into a monthly one (the thanks page and the
receipt). Both start the Checkout Session through `start_ready_checkout`, the one
way a session is made for a known customer: the same amount, frequency and Stripe
customer, so the ledger keeps one supporter, and the page the reader opens is the
pay page in their language (or Stripe's hosted Checkout under
`SUPPORT_CHECKOUT_UI=hosted`).

Mailed links (support/gift_links.py) work once: `spend_link` records the nonce
(support/manage/single_use.py) before Stripe is asked, and gives it back when Stripe
does not answer, so the reader can press again.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from support.appeal import checkout, pay, throttle
from support.appeal.checkout import ELEMENTS, HOSTED, Choice
from support.attribution import Attribution
from support.extensions import db
from support.gift_links import GiftLink
from support.manage import browser_checkouts, single_use
from support.models import Supporter
from support.portal_links import can_manage


@dataclass(frozen=True)
class ReadyGift:
    """The gift a supporter is offered: what the newsroom receives, in minor units."""

    amount: int
    currency: str
    frequency: str
    cover_fees: bool = False


class Refused(Exception):
    """A genuine link that opens nothing: `reason` is "used" or "invalid" (no one to
    give for any more: erased, or without a Stripe customer)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def start_ready_checkout(
    supporter: Supporter, gift: ReadyGift, lang: str, via: str, once_key: str
) -> str:
    """Start the Checkout Session for `gift` as `supporter`'s own Stripe customer, in
    this browser; where to send it (the pay page, or Stripe's hosted Checkout).

    `via` ("restart", "monthly") goes into the session's metadata; `once_key` makes
    the idempotency key, so pressing twice for one offer makes one session. Counted
    against the address's checkouts (`throttle`); raises `RateLimitExceeded`,
    `StripeBusy` or `StripeUnavailable` as the appeal's checkout does.
    """
    wanted = current_app.config["SUPPORT_CHECKOUT_UI"]
    choice = Choice(
        amount=gift.amount,
        currency=gift.currency,
        frequency=gift.frequency,
        cover_fees=gift.cover_fees,
        lang=lang,
        attribution=Attribution(),
        email=supporter.email,
        form_token=f"{via}-{once_key}",
        ui=ELEMENTS if wanted == ELEMENTS else HOSTED,
        customer=supporter.stripe_customer_id,
        via=via,
    )
    db.session.rollback()  # no transaction stays open while Stripe answers
    with throttle.new_sessions(choice):
        session_id, url = checkout.start_checkout(choice)
    # The pay page opens only in the browser that started the session: this one.
    browser_checkouts.remember(session_id)
    if choice.ui == ELEMENTS:
        # The address Stripe has for the customer, filled in: nothing to retype.
        pay.remember_email(session_id, choice.email)
    return url


def link_supporter(link: GiftLink) -> Supporter:
    """The supporter a link gives for, if it can still be used; raises `Refused`.
    Spends nothing (for GET)."""
    supporter = db.session.get(Supporter, link.supporter_id)
    if not can_manage(supporter):
        raise Refused("invalid")
    if single_use.is_used(link.nonce):
        raise Refused("used")
    return supporter


def spend_link(link: GiftLink) -> str:
    """Use the link up and start its gift's Checkout Session; where to send the browser.

    Raises `Refused`; Stripe's and the throttle's refusals give the link back first.
    """
    supporter = link_supporter(link)
    if not single_use.claim(link.nonce):
        raise Refused("used")
    gift = ReadyGift(link.amount, link.currency, link.frequency, link.cover_fees)
    try:
        return start_ready_checkout(supporter, gift, link.lang, link.kind, link.nonce)
    except Exception:
        db.session.rollback()
        single_use.release(link.nonce)
        raise
