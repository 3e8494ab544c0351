"""Payments in the ledger: paid or failed invoices, one-time gifts, refunds, disputes.

A renewal paid after a failed attempt is marked `recovered` (see `is_recovered`),
so the dashboard and the staff digest count the money won back.

`Payment.stripe_id` is the invoice id for a subscription payment and the
payment intent id for a one-time gift; `stripe_charge_id` is the charge that
paid it, which is how `charge.refunded` and `charge.dispute.created` find it.
Refunds and disputes are read from that charge every time a payment is
written, so a refund processed before its invoice still ends up on the row.
Like the rest of the ledger, these functions take plain dicts and never commit.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from support.extensions import db
from support.ledger.fields import attribution_fields, timestamp
from support.ledger.locks import for_update
from support.ledger.supporters import first_supported, owe_mail
from support.ledger.versions import upsert_if_newer
from support.models import Payment

PAYMENT = Payment.__table__


def find_payment(stripe_id: str | None = None, charge_id: str | None = None) -> sa.Row | None:
    """A payment by invoice / payment intent id, or by charge id; locked for update."""
    if stripe_id:
        query = sa.select(PAYMENT).where(PAYMENT.c.stripe_id == stripe_id)
    elif charge_id:
        query = sa.select(PAYMENT).where(PAYMENT.c.stripe_charge_id == charge_id)
    else:
        return None
    return db.session.execute(for_update(query)).first()


def _save(row: sa.Row | None, stripe_id: str, kind: str, values: dict) -> sa.Row:
    """Insert the payment (`row` None) or update `row` with `values`; the written row."""
    if row is None:
        values = {**values, "stripe_id": stripe_id, "kind": kind}
        return db.session.execute(sa.insert(PAYMENT).values(values).returning(PAYMENT)).one()
    update = sa.update(PAYMENT).where(PAYMENT.c.id == row.id).values(values)
    return db.session.execute(update.returning(PAYMENT)).one()


def _settle(
    values: dict,
    row: sa.Row | None,
    paid: bool,
    paid_at: datetime | None,
    charge: dict | None,
) -> None:
    """Status, paid time, refunds and dispute into `values`, from the charge that paid
    (if any); `row` is the stored payment (None for a new one)."""
    refunded = row.refunded_amount if row is not None else 0
    if charge is not None:
        refunded = charge.get("amount_refunded") or 0
        receipt = charge.get("receipt_url")
        values.update(
            stripe_charge_id=charge["id"],
            refunded_amount=refunded,
            disputed=bool(charge.get("disputed")),
            # Stripe's own receipt page; a link too long for the column is left out.
            receipt_url=receipt if isinstance(receipt, str) and len(receipt) <= 500 else None,
        )
    values["paid_at"] = (paid_at or timestamp((charge or {}).get("created"))) if paid else None
    if not paid:
        values["status"] = "failed"
    elif refunded and refunded >= values["amount"]:
        values["status"] = "refunded"
    elif refunded:
        values["status"] = "partially_refunded"
    else:
        values["status"] = "paid"
    first_supported(values["supporter_id"], values["paid_at"])


def _write(
    stripe_id: str,
    kind: str,
    values: dict,
    paid: bool,
    paid_at: datetime | None,
    charge: dict | None,
) -> sa.Row | None:
    """Write a payment as Stripe had it at `values["stripe_updated"]` (unless ours
    is newer); the stored row.

    Usually one upsert. Only a paid payment without its charge at hand (so
    without its refunds) needs the stored row first: its status depends on the
    refunds recorded there.
    """
    if paid and charge is None:
        row = find_payment(stripe_id)
        if row is not None and values["stripe_updated"] < row.stripe_updated:
            return row
        _settle(values, row, paid, paid_at, charge)
        return _save(row, stripe_id, kind, values)
    _settle(values, None, paid, paid_at, charge)
    values.update(stripe_id=stripe_id, kind=kind)
    return upsert_if_newer(PAYMENT, "stripe_id", values, kept=("kind",)) or find_payment(stripe_id)


def invoice_subscription_id(invoice: dict) -> str | None:
    """The subscription an invoice bills (`parent.subscription_details` since 2025)."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = details.get("subscription")
    return subscription if isinstance(subscription, str) else (subscription or {}).get("id")


def invoice_payment_intent(invoice: dict) -> str | None:
    """The payment intent that paid an invoice, from its (expanded) `payments` list."""
    for entry in (invoice.get("payments") or {}).get("data") or []:
        payment = entry.get("payment") or {}
        intent = payment.get("payment_intent")
        if entry.get("status") == "paid" and intent:
            return intent if isinstance(intent, str) else intent.get("id")
    return None


def apply_invoice(
    invoice: dict,
    charge: dict | None,
    supporter: sa.Row | None,
    subscription: sa.Row | None,
    version: int,
) -> sa.Row | None:
    """Record a subscription invoice that was paid or whose payment failed.

    Drafts, untried and zero-amount invoices are not money and are skipped.
    """
    paid = invoice["status"] == "paid"
    tried = paid or invoice.get("attempted") or invoice["status"] == "uncollectible"
    if not tried or not invoice.get("amount_due"):
        return None
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    meta = attribution_fields(details.get("metadata"))
    values = {"stripe_updated": version}
    if subscription is not None:
        values["subscription_id"] = subscription.id
        meta = {name: meta[name] or getattr(subscription, name) for name in meta}
    values.update(
        meta,
        supporter_id=supporter.id if supporter is not None else None,
        amount=invoice["amount_paid"] if paid else invoice["amount_due"],
        currency=invoice["currency"],
    )
    if paid and is_recovered(invoice):
        values["recovered"] = True  # never set back: a paid invoice stays recovered
    paid_at = timestamp((invoice.get("status_transitions") or {}).get("paid_at"))
    return _write(invoice["id"], "subscription", values, paid, paid_at, charge)


def is_recovered(invoice: dict) -> bool:
    """Whether a paid renewal was paid only after a failed attempt: Stripe counts every
    attempt on the invoice (`attempt_count`), and our row may already say it failed.

    A first invoice is not a renewal: a card refused at Checkout is not money kept.
    """
    if invoice.get("billing_reason") == "subscription_create":
        return False
    if (invoice.get("attempt_count") or 0) > 1:
        return True
    row = db.session.execute(
        sa.select(PAYMENT.c.status).where(PAYMENT.c.stripe_id == invoice["id"])
    ).first()
    return row is not None and row.status == "failed"


# A subscription in one of these may still be collected; any other has ended.
COLLECTING = ("active", "past_due", "unpaid", "incomplete", "trialing")


def queue_payment_failed(invoice: dict, supporter: sa.Row | None, subscription: sa.Row) -> bool:
    """Tell the supporter once that an invoice's payment failed, while it is unpaid.

    While Stripe will try again (`next_payment_attempt` set) it is the first failure's
    mail (`payment_failed`, once per invoice); once no retry is left and the gift is
    still past_due or unpaid, the last attempt's (`payment_last_attempt`). A gift that
    has ended gets neither: its "support stopped" mail says so (`subscriptions`). The
    invoice and the subscription are as Stripe has them now, so an event applied late
    or twice owes nothing new.
    """
    if invoice["status"] in ("paid", "void") or not invoice.get("attempted"):
        return False
    if subscription.status not in COLLECTING:
        return False
    context = {
        "amount": invoice["amount_due"],
        "currency": invoice["currency"],
        "frequency": subscription.interval,
        "invoice_id": invoice["id"],
        "invoice_url": invoice.get("hosted_invoice_url"),
    }
    if invoice.get("next_payment_attempt"):
        return owe_mail(f"payment_failed:{invoice['id']}", "payment_failed", supporter, context)
    if subscription.status not in ("past_due", "unpaid"):
        return False
    key = f"payment_last_attempt:{invoice['id']}"
    return owe_mail(key, "payment_last_attempt", supporter, context)


def apply_one_time(
    intent: dict, supporter: sa.Row | None, metadata: dict | None, version: int
) -> sa.Row | None:
    """Record a one-time gift from its payment intent (`latest_charge` expanded).

    A gift still processing (bank debits) is not recorded until it succeeds or fails.
    """
    paid = intent["status"] == "succeeded"
    failed = intent["status"] in ("canceled", "requires_payment_method")
    if not (paid or failed):
        return None
    amount = intent["amount"]
    if paid and intent.get("amount_received"):
        amount = intent["amount_received"]
    values = attribution_fields(intent.get("metadata") or metadata)
    values.update(
        stripe_updated=version,
        supporter_id=supporter.id if supporter is not None else None,
        amount=amount,
        currency=intent["currency"],
    )
    charge = intent.get("latest_charge")
    charge = charge if isinstance(charge, dict) else None
    return _write(intent["id"], "one_time", values, paid, None, charge)


def apply_charge(charge: dict, version: int) -> sa.Row | None:
    """Refunds and disputes of a charge onto its payment.

    A charge whose payment is not recorded yet is left alone: recording that
    payment reads the charge again, refunds included.
    """
    row = find_payment(charge_id=charge["id"]) or find_payment(charge.get("payment_intent"))
    if row is None or version < row.stripe_updated:
        return row
    values = {"stripe_updated": version, "amount": row.amount, "supporter_id": row.supporter_id}
    _settle(values, row, row.status != "failed", row.paid_at, charge)
    return _save(row, row.stripe_id, row.kind, values)
