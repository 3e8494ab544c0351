"""Turning a reader's choice into a Stripe Checkout Session, and back.

Views call `start_checkout` with a validated `Choice`; it creates the session
through `stripe_api`, records a `CheckoutAttempt` and returns the session's id
and the URL to send the reader to: our own pay page for a session paid with the
Payment Element (`ui_mode: "elements"`, whose `client_secret` the attempt keeps
for that page), or Stripe's hosted Checkout. `find_attempt` finds it again for
the pay and thanks pages (support/appeal/confirmation.py).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.exc import IntegrityError

from support import stripe_api
from support.attribution import Attribution
from support.extensions import db
from support.models import CheckoutAttempt
from support.money import fee_for, gross_up, to_major
from support.urls import public_url

SESSION_ID = re.compile(r"cs_(test|live)_[A-Za-z0-9]{1,200}")

ELEMENTS, HOSTED = "elements", "hosted"


def checkout_ui(asked: str | None) -> str:
    """Where this reader pays: our pay page only when the setting says `elements`
    and the appeal's script said the browser runs JavaScript (`ui=elements`);
    without it the Payment Element could not work, so Stripe's hosted page."""
    wanted = current_app.config["SUPPORT_CHECKOUT_UI"] == ELEMENTS
    return ELEMENTS if wanted and asked == ELEMENTS else HOSTED


@dataclass(frozen=True)
class Choice:
    """What a reader asked for, already validated."""

    amount: int  # what the reader wants the newsroom to receive, minor units
    currency: str
    frequency: str
    cover_fees: bool
    lang: str
    attribution: Attribution
    email: str | None = None
    form_token: str = ""
    ui: str = HOSTED  # ELEMENTS: paid on our pay page
    # A known supporter's Stripe customer (support/appeal/ready_checkout.py), and why the
    # session was made for them ("restart", "monthly"), kept in its metadata as `via`.
    customer: str | None = None
    via: str | None = None

    @property
    def charged(self) -> int:
        """What the card is charged: the amount, grossed up when covering the fee."""
        return gross_up(self.amount, *fee_terms()) if self.cover_fees else self.amount


@dataclass(frozen=True)
class FeeSummary:
    """What the processor keeps of a gift and what covering it would add."""

    fee: int
    net: int
    cover_extra: int  # what to add so the newsroom receives the whole amount
    share_percent: int  # the fee as a share of the gift


def fee_terms() -> tuple[Decimal, int]:
    """The configured card fee: (percent, fixed minor units)."""
    return current_app.config["SUPPORT_FEE_PERCENT"], current_app.config["SUPPORT_FEE_FIXED"]


def fee_summary(amount: int) -> FeeSummary:
    """The fee on `amount` and the extra that would cover it."""
    fee = fee_for(amount, *fee_terms())
    return FeeSummary(
        fee=fee,
        net=amount - fee,
        cover_extra=gross_up(amount, *fee_terms()) - amount,
        share_percent=round(100 * fee / amount) if amount else 0,
    )


def idempotency_key(choice: Choice) -> str:
    """One key per rendered form and choice: a double click makes one session,
    while a reader who goes back and changes the amount gets a new one."""
    parts = [
        choice.form_token,
        str(choice.amount),
        choice.currency,
        choice.frequency,
        str(choice.cover_fees),
        choice.email or "",
        choice.lang,
        choice.ui,
        *(choice.attribution.source, choice.attribution.campaign, choice.attribution.variant),
    ]
    if choice.customer:
        parts += [choice.customer, choice.via]
    digest = hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()
    return f"checkout-{digest}"


def appeal_params(choice: Choice) -> dict[str, str]:
    """Query parameters that bring a reader back to the appeal with their choice kept."""
    params = {
        "amount": str(to_major(choice.amount, choice.currency)),
        "frequency": choice.frequency,
        "currency": choice.currency,
        **choice.attribution.as_params(),
    }
    if choice.cover_fees:
        params["cover_fees"] = "1"
    return params


def start_checkout(choice: Choice) -> tuple[str, str]:
    """Create (or, on a double submit, find again) the Checkout Session; its id and
    where to send the reader (our pay page, or Stripe's hosted page)."""
    metadata = {"lang": choice.lang, "cover_fees": "1" if choice.cover_fees else "0"}
    metadata.update(choice.attribution.as_params())
    if choice.via:
        metadata["via"] = choice.via
    # Stripe fills in the session's id; url_for would escape the braces.
    thanks = public_url("appeal.thanks", lang=choice.lang) + "?session_id={CHECKOUT_SESSION_ID}"
    # Checkout has no Arabic: "auto" follows the reader's browser. On our pay page
    # Stripe.js is given the page's own language instead.
    locale = "en" if choice.lang == "en" else "auto"
    common = {
        "amount": choice.charged,
        "currency": choice.currency,
        "frequency": choice.frequency,
        "locale": locale,
        "metadata": metadata,
    }
    if choice.ui == ELEMENTS:
        # The reader types the address on our page; Stripe.js sends it with the payment.
        request = stripe_api.CheckoutRequest(**common, return_url=thanks, customer=choice.customer)
    else:
        cancel = public_url("appeal.cancelled", lang=choice.lang, **appeal_params(choice))
        request = stripe_api.CheckoutRequest(
            **common,
            success_url=thanks,
            cancel_url=cancel,
            customer_email=choice.email,
            customer=choice.customer,
        )
    session = stripe_api.create_checkout_session(request, idempotency_key(choice))
    record_attempt(session.id, choice, session.client_secret if choice.ui == ELEMENTS else None)
    if choice.ui == ELEMENTS:
        return session.id, url_for("appeal.pay_page", lang=choice.lang, session_id=session.id)
    return session.id, session.url


def record_attempt(session_id: str, choice: Choice, client_secret: str | None = None) -> None:
    """Remember the session once, whatever the number of submits that led to it."""
    exists = db.session.scalar(
        sa.select(CheckoutAttempt.id).where(CheckoutAttempt.session_id == session_id)
    )
    if exists:
        return
    db.session.add(
        CheckoutAttempt(
            session_id=session_id,
            amount=choice.charged,
            currency=choice.currency,
            frequency=choice.frequency,
            cover_fees=choice.cover_fees,
            lang=choice.lang,
            source=choice.attribution.source,
            campaign=choice.attribution.campaign,
            variant=choice.attribution.variant,
            client_secret=client_secret,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent double submit recorded the same session first.
        db.session.rollback()


def find_attempt(session_id: str | None) -> CheckoutAttempt | None:
    """The attempt for a session id we created, or None (also for malformed ids)."""
    if not session_id or not SESSION_ID.fullmatch(session_id):
        return None
    return db.session.scalar(
        sa.select(CheckoutAttempt).where(CheckoutAttempt.session_id == session_id)
    )
