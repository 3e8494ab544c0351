"""Our own pay page: what it shows of a Checkout Session paid with the Payment Element.

Stripe's hosted Checkout has no Arabic, so a reader whose browser runs JavaScript
pays on our page, in the page's language, with Stripe's Payment Element mounted
from a `ui_mode: "elements"` session (support/appeal/checkout.py). Everything the
page shows comes from the `CheckoutAttempt` row: the gift as the appeal described
it, and the session's `client_secret` kept from its creation, so showing the page
never costs a Stripe request. Only the browser that started the session may see it
(support/manage/browser_checkouts.py): the secret lets whoever holds it pay.

A session the webhook has completed sends the reader to the thanks page; one past
Stripe's 24-hour lifetime can no longer be paid, so the reader goes back to the
appeal with the choice kept. The reader can always switch to Stripe's hosted
Checkout for the same choice (`hosted_choice`), e.g. when Stripe.js cannot load.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import session

from support.appeal.checkout import HOSTED, Choice, appeal_params, fee_summary, fee_terms
from support.appeal.confirmation import SESSION_LIFETIME, known_paid
from support.attribution import Attribution
from support.models import CheckoutAttempt, utcnow
from support.money import fee_for

OPEN, COMPLETE, EXPIRED = "open", "complete", "expired"

# The email typed on the appeal, for the pay page of that session only (the last few).
EMAILS_KEY = "pay_emails"
KEPT_EMAILS = 3


def remember_email(session_id: str, email: str | None) -> None:
    """Keep the address typed on the appeal for the pay page to fill in.

    It stays in the reader's own signed session cookie, never in our database:
    Stripe keeps the address the payment is made with.
    """
    if not email:
        return
    kept = {k: v for k, v in session.get(EMAILS_KEY, {}).items() if k != session_id}
    session[EMAILS_KEY] = {**dict(list(kept.items())[-(KEPT_EMAILS - 1) :]), session_id: email}


def email_for(session_id: str) -> str | None:
    """The address typed on the appeal for `session_id`, if any."""
    kept = session.get(EMAILS_KEY)
    email = kept.get(session_id) if isinstance(kept, dict) else None
    return email if isinstance(email, str) else None


def state(attempt: CheckoutAttempt) -> str:
    """OPEN, COMPLETE (paid, as far as we know) or EXPIRED (past Stripe's lifetime)."""
    if known_paid(attempt):
        return COMPLETE
    if utcnow() - attempt.created_at >= SESSION_LIFETIME:
        return EXPIRED
    return OPEN


def gift_amount(attempt: CheckoutAttempt) -> int:
    """What the newsroom receives as the reader chose it: the charge, less the fee
    when the reader covers it (the attempt keeps what the card is charged)."""
    if not attempt.cover_fees:
        return attempt.amount
    return attempt.amount - fee_for(attempt.amount, *fee_terms())


def choice_of(attempt: CheckoutAttempt, lang: str, email: str | None = None) -> Choice:
    """The reader's choice again, as it was sent from the appeal (for a hosted session
    of the same gift, and the link back to the appeal with it kept)."""
    return Choice(
        amount=gift_amount(attempt),
        currency=attempt.currency,
        frequency=attempt.frequency,
        cover_fees=attempt.cover_fees,
        lang=lang,
        attribution=Attribution.from_values(
            {"source": attempt.source, "campaign": attempt.campaign, "variant": attempt.variant}
        ),
        email=email,
        # One hosted session per pay page: pressing the fallback twice makes one.
        form_token=f"pay-{attempt.session_id}",
        ui=HOSTED,
    )


@dataclass(frozen=True)
class Summary:
    """The gift as the pay page describes it, in the appeal's words."""

    amount: int  # what the newsroom receives
    charged: int  # what the card is charged
    fee: int  # what the card processor keeps
    net: int  # what the newsroom receives after the fee (when not covered)
    currency: str
    frequency: str
    cover_fees: bool


def summary(attempt: CheckoutAttempt) -> Summary:
    """What the page says about the gift: amount, frequency, fee and total."""
    amount = gift_amount(attempt)
    fees = fee_summary(amount)
    return Summary(
        amount=amount,
        charged=attempt.amount,
        fee=attempt.amount - amount if attempt.cover_fees else fees.fee,
        net=fees.net,
        currency=attempt.currency,
        frequency=attempt.frequency,
        cover_fees=attempt.cover_fees,
    )


def back_to_appeal(attempt: CheckoutAttempt, lang: str) -> dict[str, str]:
    """Query parameters of the appeal with this gift's choice kept."""
    return appeal_params(choice_of(attempt, lang))
