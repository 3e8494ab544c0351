"""Updating the card of a recurring gift: a SetupIntent, then the new card made the default.

1. `start` asks Stripe for a SetupIntent for the gift's customer
   (`usage: off_session`, the subscription in its metadata); the card page
   mounts the Payment Element on its client secret and Stripe.js confirms it.
2. `finish`, on the page Stripe.js returns to, reads the SetupIntent back:
   it must be the customer's and `succeeded`. Its card becomes the
   subscription's `default_payment_method`, and an open invoice (a payment that
   failed) is tried again at once. A confirmation mail is owed once per
   SetupIntent.

Every change goes through `stripe_api` with an idempotency key drawn from the
SetupIntent, so reloading the return page asks nothing twice. The ledger's
card changes only with the `customer.subscription.updated` webhook that follows.
Callers check that the browser may act for the supporter; nothing here does.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa

from support import stripe_api
from support.account.cards import Card
from support.extensions import db
from support.mail.queue import queue_mail
from support.models import Subscription, Supporter

SETUP_INTENT_ID = re.compile(r"seti_[A-Za-z0-9]{1,60}")
# A gift that has ended has no card to update.
UPDATABLE = ("active", "trialing", "past_due", "unpaid", "incomplete", "paused")


class NotFound(Exception):
    """The SetupIntent or its gift is not one we know."""


@dataclass(frozen=True)
class Setup:
    """A SetupIntent read back from Stripe, with the gift it is for."""

    intent: dict
    supporter: Supporter
    subscription: Subscription

    @property
    def status(self) -> str:
        return self.intent.get("status") or ""

    @property
    def error_code(self) -> str | None:
        """Why the last confirmation failed (`card_declined`, ...), if it did."""
        return (self.intent.get("last_setup_error") or {}).get("code")

    @property
    def card(self) -> Card | None:
        method = self.intent.get("payment_method")
        details = method.get("card") if isinstance(method, dict) else None
        if not details or not details.get("last4"):
            return None
        brand = details.get("display_brand") or details.get("brand") or ""
        return Card(brand, details["last4"], details.get("exp_month"), details.get("exp_year"))


@dataclass(frozen=True)
class Outcome:
    """What `finish` did: the card saved, and the waiting payment tried again or not.

    `retried`: None (nothing was waiting), "paid" or "declined".
    """

    card: Card | None
    retried: str | None
    amount: int | None = None
    currency: str | None = None


def updatable(subscription: Subscription) -> bool:
    return subscription.status in UPDATABLE


def start(supporter: Supporter, subscription: Subscription, form_nonce: str) -> str:
    """A SetupIntent for the gift's customer; its id. One per rendered form (`form_nonce`).

    Raises `stripe_api.StripeUnavailable` (`StripeBusy`) when Stripe does not make one.
    """
    customer_id, sub_id = supporter.stripe_customer_id, subscription.stripe_id
    digest = hashlib.sha256(f"{form_nonce}:{sub_id}".encode()).hexdigest()[:40]
    db.session.rollback()  # no transaction stays open while Stripe answers
    intent = stripe_api.create_setup_intent(customer_id, sub_id, f"card-setup-{digest}")
    return intent["id"]


def read(setup_intent_id: str) -> Setup:
    """The SetupIntent (its card expanded) with its supporter and gift, from Stripe now.

    Raises `NotFound` for an id Stripe does not know, or whose customer or gift
    is not in the ledger; `stripe_api.StripeUnavailable` when Stripe does not answer.
    """
    if not SETUP_INTENT_ID.fullmatch(setup_intent_id or ""):
        raise NotFound(setup_intent_id)
    db.session.rollback()
    intent = stripe_api.retrieve_setup_intent(setup_intent_id)
    if intent is None or not intent.get("customer"):
        raise NotFound(setup_intent_id)
    customer = intent["customer"]
    customer = customer if isinstance(customer, str) else customer.get("id")
    supporter = db.session.scalar(
        sa.select(Supporter).where(Supporter.stripe_customer_id == customer)
    )
    sub_id = (intent.get("metadata") or {}).get("subscription")
    subscription = db.session.scalar(
        sa.select(Subscription).where(Subscription.stripe_id == sub_id)
    )
    if supporter is None or subscription is None or subscription.supporter_id != supporter.id:
        raise NotFound(setup_intent_id)
    return Setup(intent, supporter, subscription)


def finish(setup: Setup) -> Outcome:
    """Make the SetupIntent's card the gift's default, retry what is waiting, owe the mail.

    Call only for a `succeeded` SetupIntent. Raises `stripe_api.StripeUnavailable`
    (`StripeBusy`) when Stripe does not answer; calling again is safe.
    """
    method = setup.intent["payment_method"]
    method_id = method if isinstance(method, str) else method["id"]
    seti_id, sub_id = setup.intent["id"], setup.subscription.stripe_id
    supporter_id, lang = setup.supporter.id, setup.supporter.lang
    amount, currency = setup.subscription.amount, setup.subscription.currency
    frequency = setup.subscription.interval
    db.session.rollback()
    stripe_api.set_subscription_payment_method(sub_id, method_id, f"card-default-{seti_id}")
    retried, owed = None, 0
    for invoice in stripe_api.open_invoices(sub_id):
        try:
            stripe_api.pay_invoice(invoice["id"], f"card-retry-{seti_id}-{invoice['id']}")
        except stripe_api.StripeUnavailable as error:
            if isinstance(error, stripe_api.StripeBusy) or error.code != "card_declined":
                raise
            retried = "declined"
        else:
            retried = retried or "paid"
        owed += invoice.get("amount_due") or 0
        currency = invoice.get("currency") or currency
    card = setup.card
    context = {
        "amount": amount,
        "currency": currency,
        "frequency": frequency,
        "brand": card.brand_name if card else None,
        "last4": card.last4 if card else None,
        "expiry": card.expiry if card else None,
        # As the mail writes them: left to right inside Arabic text.
        "masked": card.masked if card else None,
        "expiry_text": card.expiry_text if card else None,
        "retried": retried,
        "owed": owed or None,
    }
    queue_mail(f"card_updated:{seti_id}", "card_updated", supporter_id, lang, context)
    db.session.commit()
    return Outcome(card, retried, owed or None, currency)
