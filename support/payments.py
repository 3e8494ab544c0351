"""Payments in the ledger: paid or failed invoices, one-time gifts, refunds, disputes.

`Payment.stripe_id` is the invoice id for a subscription payment and the
payment intent id for a one-time gift; `stripe_charge_id` is the charge that
paid it, which is how `charge.refunded` and `charge.dispute.created` find it.
Refunds and disputes are read from that charge every time a payment is
written, so a refund processed before its invoice still ends up on the row.
Like `support.ledger`, these functions take plain dicts and never commit.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from support.extensions import db
from support.ledger import (
    Prepared,
    attribution_fields,
    first_supported,
    queue_email,
    timestamp,
)
from support.models import Payment, Subscription, Supporter

_BY_STRIPE_ID = Prepared(sa.select(Payment).where(Payment.stripe_id == sa.bindparam("key")))
_BY_CHARGE = Prepared(sa.select(Payment).where(Payment.stripe_charge_id == sa.bindparam("key")))


def find_payment(stripe_id: str | None = None, charge_id: str | None = None) -> Payment | None:
    """A payment by invoice / payment intent id, or by charge id; locked for update."""
    if stripe_id:
        statement, key = _BY_STRIPE_ID, stripe_id
    elif charge_id:
        statement, key = _BY_CHARGE, charge_id
    else:
        return None
    return db.session.scalar(statement.for_update(), {"key": key})


def _payment_row(stripe_id: str, kind: str, version: int) -> Payment | None:
    """The row to write, or None when it already holds fresher state than `version`."""
    row = find_payment(stripe_id)
    if row is None:
        row = Payment(stripe_id=stripe_id, kind=kind, refunded_amount=0, disputed=False)
        db.session.add(row)
    elif version < row.stripe_updated:
        return None
    row.stripe_updated = version
    return row


def _settle(row: Payment, paid: bool, paid_at: datetime | None, charge: dict | None) -> None:
    """Status, paid time, refunds and dispute, from the charge that paid (if any)."""
    if charge is not None:
        row.stripe_charge_id = charge["id"]
        row.refunded_amount = charge.get("amount_refunded") or 0
        row.disputed = bool(charge.get("disputed"))
    row.paid_at = (paid_at or timestamp((charge or {}).get("created"))) if paid else None
    if not paid:
        row.status = "failed"
    elif row.refunded_amount and row.refunded_amount >= row.amount:
        row.status = "refunded"
    elif row.refunded_amount:
        row.status = "partially_refunded"
    else:
        row.status = "paid"
    first_supported(row.supporter, row.paid_at)


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
    supporter: Supporter | None,
    subscription: Subscription | None,
    version: int,
) -> Payment | None:
    """Record a subscription invoice that was paid or whose payment failed.

    Drafts, untried and zero-amount invoices are not money and are skipped.
    """
    paid = invoice["status"] == "paid"
    tried = paid or invoice.get("attempted") or invoice["status"] == "uncollectible"
    if not tried or not invoice.get("amount_due"):
        return None
    row = _payment_row(invoice["id"], "subscription", version)
    if row is None:
        return find_payment(invoice["id"])
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    meta = attribution_fields(details.get("metadata"))
    if subscription is not None:
        row.subscription_id = subscription.id
        meta = {name: meta[name] or getattr(subscription, name) for name in meta}
    row.supporter = supporter
    row.amount = invoice["amount_paid"] if paid else invoice["amount_due"]
    row.currency = invoice["currency"]
    row.source, row.campaign, row.variant = meta["source"], meta["campaign"], meta["variant"]
    paid_at = timestamp((invoice.get("status_transitions") or {}).get("paid_at"))
    _settle(row, paid, paid_at, charge)
    db.session.flush()
    return row


def queue_payment_failed(invoice: dict, supporter: Supporter | None, interval: str | None) -> bool:
    """Tell the supporter once that an invoice's payment failed, if it is still unpaid."""
    if invoice["status"] == "paid" or not invoice.get("attempted"):
        return False
    context = {
        "amount": invoice["amount_due"],
        "currency": invoice["currency"],
        "frequency": interval,
        "invoice_id": invoice["id"],
        "invoice_url": invoice.get("hosted_invoice_url"),
    }
    return queue_email(f"payment_failed:{invoice['id']}", "payment_failed", supporter, context)


def apply_one_time(
    intent: dict, supporter: Supporter | None, metadata: dict | None, version: int
) -> Payment | None:
    """Record a one-time gift from its payment intent (`latest_charge` expanded).

    A gift still processing (bank debits) is not recorded until it succeeds or fails.
    """
    paid = intent["status"] == "succeeded"
    failed = intent["status"] in ("canceled", "requires_payment_method")
    if not (paid or failed):
        return None
    row = _payment_row(intent["id"], "one_time", version)
    if row is None:
        return find_payment(intent["id"])
    meta = attribution_fields(intent.get("metadata") or metadata)
    row.supporter = supporter
    row.amount = intent["amount"]
    if paid and intent.get("amount_received"):
        row.amount = intent["amount_received"]
    row.currency = intent["currency"]
    row.source, row.campaign, row.variant = meta["source"], meta["campaign"], meta["variant"]
    charge = intent.get("latest_charge")
    _settle(row, paid, None, charge if isinstance(charge, dict) else None)
    db.session.flush()
    return row


def apply_charge(charge: dict, version: int) -> Payment | None:
    """Refunds and disputes of a charge onto its payment.

    A charge whose payment is not recorded yet is left alone: recording that
    payment reads the charge again, refunds included.
    """
    row = find_payment(charge_id=charge["id"]) or find_payment(charge.get("payment_intent"))
    if row is None or version < row.stripe_updated:
        return row
    row.stripe_updated = version
    _settle(row, row.status != "failed", row.paid_at, charge)
    db.session.flush()
    return row
