"""What an admin may do to a supporter from the staff page, and the record of it.

Refund a payment (whole or part), cancel a subscription (now or at the end of
the period), send a thank-you mail again. Each asks on a confirmation page
first, and each is a `StaffAction` row: who, what, on which Stripe object, how
much, when, and how it went.

Stripe is asked through `support.stripe_api`; nothing here writes the ledger.
Stripe's webhook (`charge.refunded`, `customer.subscription.updated` /
`deleted`) brings the change, the worker applies it like any other, and in
doing so marks the dashboard's figures stale (`support.stats.snapshot`).

A double submit acts once: the confirmation form carries a random token, and
`key` (the token hashed with what was asked) is both the row's unique key and
Stripe's idempotency key. The row is committed as `pending` before Stripe is
asked, so a second press of the same form finds it and asks nothing; the same
form sent again after Stripe failed asks again with the same key, which is
safe whether or not Stripe had acted on the first try.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from support import audit
from support.extensions import db
from support.mail.queue import queue_mail
from support.models import (
    OutboundEmail,
    Payment,
    StaffAction,
    Subscription,
    Supporter,
    utcnow,
)
from support.money import CURRENCY_EXPONENTS
from support.privacy import error_texts
from support.staff.mail_labels import by_key, mail_label

REFUND = "refund"
CANCEL_NOW = "cancel_now"
CANCEL_AT_PERIOD_END = "cancel_at_period_end"
RESEND_MAIL = "resend_mail"

REFUNDABLE = ("paid", "partially_refunded")
# Subscriptions Stripe has ended (or never started) cannot be canceled.
ENDED = ("canceled", "incomplete_expired")
# Mails staff may send again: the thank-you, which is the supporter's receipt.
RESENDABLE = ("thank_you",)
DETAIL_LENGTH = 1000


def new_token() -> str:
    """A confirmation form's one-time token."""
    return secrets.token_urlsafe(24)


def action_key(token: str, action: str, target: str, amount: int | None = None) -> str:
    """The row's unique key and Stripe's idempotency key for one confirmed request."""
    text = f"{token}|{action}|{target}|{amount if amount is not None else ''}"
    return "staff-" + hashlib.sha256(text.encode()).hexdigest()[:40]


def refundable(payment: Payment) -> int:
    """What is left to refund of a payment (0: nothing can be refunded from here)."""
    if payment.status not in REFUNDABLE or payment.disputed:
        return 0
    if payment.currency not in CURRENCY_EXPONENTS:  # no amount could be typed for it
        return 0
    if not (payment.stripe_charge_id or payment.stripe_id.startswith("pi_")):
        return 0
    return max(payment.amount - payment.refunded_amount, 0)


def refund_target(payment: Payment) -> str:
    """The Stripe object a refund names: the charge, else the payment intent."""
    return payment.stripe_charge_id or payment.stripe_id


def cancellable(subscription: Subscription) -> bool:
    """Whether Stripe can still cancel the subscription."""
    return subscription.status not in ENDED


@dataclass
class Started:
    """An action recorded as pending; `new` is False when this form was sent before.

    `key` is Stripe's idempotency key. Reading it costs no query: the row was
    committed, and the request should hold no transaction while Stripe answers.
    """

    row: StaffAction
    new: bool
    key: str


def begin(
    supporter: Supporter,
    action: str,
    target: str,
    token: str,
    amount: int | None = None,
    currency: str | None = None,
) -> Started:
    """Record the action as pending and commit, before anyone is asked.

    The same form sent again (a double click, a reload) finds its row: `new` is
    False and the caller asks nothing, unless that earlier try failed, when the
    row goes back to pending to try again with the same key.
    """
    key = action_key(token, action, target, amount)
    row = db.session.scalar(sa.select(StaffAction).where(StaffAction.key == key))
    if row is None:
        row = StaffAction(
            key=key,
            staff_user_id=current_user.id,
            staff_email=current_user.email,
            supporter_id=supporter.id,
            action=action,
            target=target,
            amount=amount,
            currency=currency,
            outcome="pending",
            created_at=utcnow(),
        )
        db.session.add(row)
        try:
            db.session.commit()
        except IntegrityError:  # the same form, pressed twice at once
            db.session.rollback()
            row = db.session.scalar(sa.select(StaffAction).where(StaffAction.key == key))
            if row is None:
                raise
            return Started(row, False, key)
        return Started(row, True, key)
    if row.outcome != "failed":
        return Started(row, False, key)
    retried = db.session.execute(
        sa.update(StaffAction)
        .where(StaffAction.id == row.id, StaffAction.outcome == "failed")
        .values(outcome="pending", detail=None, finished_at=None)
    )
    db.session.commit()
    return Started(row, retried.rowcount == 1, key)


def finish(row: StaffAction, outcome: str, detail: str | None = None) -> None:
    """Record how the action went (and commit)."""
    row.outcome = outcome
    row.detail = detail[:DETAIL_LENGTH] if detail else None
    row.finished_at = utcnow()
    db.session.commit()


def finish_requested(row: StaffAction, detail: str | None = None) -> None:
    """Stripe accepted the request: `requested` (and commit), or `confirmed` at once when
    the worker applied Stripe's webhook for it while Stripe was still answering us."""
    finish(row, audit.REQUESTED, detail)
    if row.action == REFUND:
        payment = db.session.scalar(
            sa.select(Payment).where(
                sa.or_(Payment.stripe_charge_id == row.target, Payment.stripe_id == row.target)
            )
        )
        if payment is not None:
            db.session.refresh(payment)
            audit.confirm_refunds([row.target], payment.refunded_amount)
    else:
        subscription = db.session.scalar(
            sa.select(Subscription).where(Subscription.stripe_id == row.target)
        )
        if subscription is not None:
            db.session.refresh(subscription)
            audit.confirm_cancellations(
                row.target, subscription.status, subscription.cancel_at_period_end
            )
    db.session.commit()
    db.session.refresh(row)


@dataclass
class Shown:
    """A supporter action as staff read it: its outcome now and what it acted on."""

    outcome: str
    target: str | None
    detail: str | None


def shown(rows: list[StaffAction]) -> dict[int, Shown]:
    """Per row id: a resent mail's outcome is the outbox's (queued, then sent or failed)
    and it is named by its kind, not by its keys; other rows as recorded."""
    mails = by_key([k for r in rows if r.action == RESEND_MAIL for k in (r.target, r.detail)])
    out = {}
    for row in rows:
        if row.action != RESEND_MAIL:
            out[row.id] = Shown(row.outcome, row.target, row.detail)
            continue
        original, again = mails.get(row.target), mails.get(row.detail or "")
        outcome = row.outcome
        if row.outcome == "queued" and again is not None and again.status in ("sent", "failed"):
            outcome = again.status
        label = mail_label(original.kind if original else again.kind if again else None)
        out[row.id] = Shown(outcome, label, None if row.outcome == "queued" else row.detail)
    return out


def failed(row: StaffAction, supporter: Supporter, text: str) -> None:
    """Record a failure; the text is kept without the reader's address or name."""
    finish(row, "failed", error_texts.clean(text, supporter.email, supporter.name))


def resend_key(original: OutboundEmail, token: str) -> str:
    """A new mail key, so the outbox really sends the mail again (once per form)."""
    suffix = ":again:" + action_key(token, RESEND_MAIL, original.key)[6:22]
    return original.key[: 255 - len(suffix)] + suffix


def resend(original: OutboundEmail, supporter: Supporter, row: StaffAction, token: str) -> None:
    """Owe the supporter `original` again, under a new key; the worker sends it."""
    try:
        context = json.loads(original.context or "{}")
    except ValueError:
        context = {}
    key = resend_key(original, token)
    queue_mail(key, original.kind, supporter.id, original.lang, context)
    finish(row, "queued", key)


def recent(supporter: Supporter, limit: int = 50) -> list[StaffAction]:
    """What staff did on this supporter's page, newest first."""
    return list(
        db.session.scalars(
            sa.select(StaffAction)
            .where(StaffAction.supporter_id == supporter.id)
            .order_by(StaffAction.created_at.desc(), StaffAction.id.desc())
            .limit(limit)
        )
    )


def mails(supporter: Supporter, limit: int = 50) -> list[OutboundEmail]:
    """The mails owed to or sent to this supporter, newest first."""
    return list(
        db.session.scalars(
            sa.select(OutboundEmail)
            .where(OutboundEmail.supporter_id == supporter.id)
            .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
            .limit(limit)
        )
    )
