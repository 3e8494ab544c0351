"""The card behind each recurring gift, for the account page: read from the ledger only.

The ledger keeps the brand, last 4 digits and expiry of the card a
subscription is charged to (`support.ledger.cards`). A card the supporter has
just changed reaches the ledger with the webhook that follows; until then the
browser that made the change remembers it (`remember_new_card`, in its signed
session) and the page says the change is on its way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import session

from support.extensions import db
from support.models import Subscription, utcnow

# Gifts whose card can still matter: anything not ended.
ENDED = ("canceled", "incomplete_expired")
PENDING_KEY = "card_pending"
# After this long the webhook has surely come (or failed loudly): stop saying "on its way".
PENDING_SECONDS = 3600
# A card that stops working within this is flagged "expires soon".
SOON = timedelta(days=31)


# Left-to-right isolate and its end: a card number or date inside a right-to-left
# sentence keeps its own order, in a page or a plain-text mail alike.
LTR, POP = "\u2066", "\u2069"

# Card networks as their owners write them (a brand name is not translated).
BRAND_NAMES = {
    "amex": "American Express",
    "cartes_bancaires": "Cartes Bancaires",
    "diners": "Diners Club",
    "discover": "Discover",
    "eftpos_au": "eftpos",
    "interac": "Interac",
    "jcb": "JCB",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}


@dataclass(frozen=True)
class Card:
    """What the page shows of a card."""

    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None

    @property
    def brand_name(self) -> str:
        """ "Visa", "Mastercard"...; empty for a brand Stripe does not name."""
        if self.brand in ("", "unknown"):
            return ""
        return BRAND_NAMES.get(self.brand, self.brand.replace("_", " ").title())

    @property
    def masked(self) -> str:
        """ "•••• 4242", kept left to right inside Arabic text (Unicode isolates)."""
        return f"{LTR}•••• {self.last4}{POP}"

    @property
    def expiry_text(self) -> str:
        """The expiry, kept left to right inside Arabic text; empty without one."""
        return f"{LTR}{self.expiry}{POP}" if self.expiry else ""

    @property
    def expiry(self) -> str:
        """ "12/2034", or empty without an expiry."""
        if not (self.exp_month and self.exp_year):
            return ""
        return f"{self.exp_month:02d}/{self.exp_year}"

    def state(self, now: datetime | None = None) -> str:
        """ok, soon (it stops working within a month) or expired.

        A card works until the end of its expiry month.
        """
        if not (self.exp_month and self.exp_year):
            return "ok"
        now = now or utcnow()
        year, month = divmod(self.exp_year * 12 + self.exp_month, 12)  # the month after
        ends = datetime(year, month + 1, 1, tzinfo=UTC)
        if ends <= now:
            return "expired"
        return "soon" if ends - now <= SOON else "ok"

    def key(self) -> list:
        return [self.brand, self.last4, self.exp_month, self.exp_year]


@dataclass(frozen=True)
class GiftCard:
    """A recurring gift with its card and next payment."""

    subscription_id: int
    amount: int
    currency: str
    frequency: str
    status: str
    next_payment: datetime | None
    card: Card | None
    pending: Card | None  # a new card on its way to the ledger


def _card(sub: Subscription) -> Card | None:
    if not sub.card_last4:
        return None
    return Card(sub.card_brand or "", sub.card_last4, sub.card_exp_month, sub.card_exp_year)


def _pending(sub: Subscription, card: Card | None) -> Card | None:
    waiting = (session.get(PENDING_KEY) or {}).get(sub.stripe_id)
    if not isinstance(waiting, list) or len(waiting) != 5:
        return None
    *fields, at = waiting
    if not isinstance(at, int | float) or time.time() - at > PENDING_SECONDS:
        return None
    new = Card(*fields)
    return None if card is not None and card.key() == new.key() else new


def gift_cards(supporter_id: int) -> list[GiftCard]:
    """The supporter's recurring gifts that have not ended, newest first, with their cards."""
    subs = db.session.scalars(
        sa.select(Subscription)
        .where(Subscription.supporter_id == supporter_id, Subscription.status.not_in(ENDED))
        .order_by(Subscription.started_at.desc(), Subscription.id.desc())
    )
    result = []
    for sub in subs:
        card = _card(sub)
        live = sub.status in ("active", "trialing") and not sub.cancel_at_period_end
        result.append(
            GiftCard(
                subscription_id=sub.id,
                amount=sub.amount,
                currency=sub.currency,
                frequency=sub.interval,
                status=sub.status,
                next_payment=sub.current_period_end if live else None,
                card=card,
                pending=_pending(sub, card),
            )
        )
    return result


def remember_new_card(subscription_stripe_id: str, card: Card) -> None:
    """This browser changed the card: say so on the page until the ledger has it."""
    pending = dict(session.get(PENDING_KEY) or {})
    pending[subscription_stripe_id] = [*card.key(), int(time.time())]
    session[PENDING_KEY] = pending
