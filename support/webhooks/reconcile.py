"""Reconciliation: compare the ledger with Stripe's lists and repair what differs.

Webhooks should keep the ledger exact; this is the safety net for an endpoint
that was down longer than Stripe retries, a secret rotated too early, or a
bug fixed after the fact. It pages through subscriptions, invoices and
charges (refunds, disputes), writes each one that differs from (or is
missing in) the ledger, and reports it.
Each object is written under its customer's lock and with the version taken
before listing started, so a webhook that wrote fresher state meanwhile wins.
Each is committed on its own, so no transaction stays open while the next
page is read from Stripe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from support import stripe_api
from support.extensions import db
from support.ledger import changes, payments, subscriptions, supporters
from support.ledger.locks import customer_key, lock_customer
from support.ledger.versions import read_version

COMPARED = (
    "status",
    "amount",
    "currency",
    "interval",
    "cancel_at_period_end",
    "canceled_at",
    "collection_paused",
    "paused_until",
    "cancel_reason",
)


@dataclass
class Report:
    """What a reconcile run looked at and what it changed."""

    subscriptions: int = 0
    invoices: int = 0
    charges: int = 0
    differences: list[str] = field(default_factory=list)


def _subscription_difference(sub: dict, row: sa.Row | None) -> str | None:
    if row is None:
        return f"{sub['id']}: missing (Stripe: {sub['status']})"
    expected = subscriptions.subscription_fields(sub)
    changed = [
        f"{name} {getattr(row, name)} → {expected[name]}"
        for name in COMPARED
        if getattr(row, name) != expected[name]
    ]
    return f"{sub['id']}: " + ", ".join(changed) if changed else None


def _invoice_difference(invoice: dict) -> str | None:
    paid = invoice["status"] == "paid"
    tried = paid or invoice.get("attempted")
    if not tried or not invoice.get("amount_due") or not payments.invoice_subscription_id(invoice):
        return None
    row = payments.find_payment(invoice["id"])
    if row is None:
        return f"{invoice['id']}: payment missing (Stripe: {invoice['status']})"
    amount = invoice["amount_paid"] if paid else invoice["amount_due"]
    if (row.status != "failed") != paid or row.amount != amount:
        return f"{invoice['id']}: {row.status} {row.amount} → {invoice['status']} {amount}"
    return None


def _charge_difference(charge: dict) -> str | None:
    row = payments.find_payment(charge_id=charge["id"])
    refunded = charge.get("amount_refunded") or 0
    if row is None or (row.refunded_amount, row.disputed) == (refunded, bool(charge["disputed"])):
        return None
    return (
        f"{charge['id']}: refunded {row.refunded_amount} → {refunded},"
        f" disputed {row.disputed} → {charge['disputed']}"
    )


def reconcile(
    since: int | None = None,
    progress: Callable[[Iterable, str], Iterator] = lambda items, label: iter(items),
) -> Report:
    """Repair the ledger from Stripe (objects created at or after `since`, a unix time)."""
    report = Report()
    version = read_version()
    for sub in progress(stripe_api.list_subscriptions(since), "Subscriptions"):
        report.subscriptions += 1
        known = subscriptions.find_subscription(sub["id"])
        difference = _subscription_difference(sub, known)
        db.session.rollback()
        if difference:
            supporter_details = _new_customer(sub["customer"])
            lock_customer(customer_key(sub))
            lang = (sub.get("metadata") or {}).get("lang")
            owner_id = known.supporter_id if known is not None else None
            supporter = supporters.upsert_supporter(
                sub["customer"], *supporter_details, lang, owner_id=owner_id
            )
            row = subscriptions.apply_subscription(sub, supporter, version)
            # Supporters' changes whose webhooks were lost are applied (and mailed) now.
            changes.apply_changes(row, supporter, version)
            if row.stripe_updated == version:
                report.differences.append(difference)
            db.session.commit()
    for invoice in progress(stripe_api.list_invoices(since), "Invoices"):
        report.invoices += 1
        difference = _invoice_difference(invoice)
        db.session.rollback()
        if difference:
            charge = _paying_charge(invoice)
            lock_customer(customer_key(invoice))
            subscription = subscriptions.find_subscription(
                payments.invoice_subscription_id(invoice)
            )
            supporter = supporters.upsert_supporter(
                invoice["customer"],
                invoice.get("customer_email"),
                invoice.get("customer_name"),
                owner_id=subscription.supporter_id if subscription is not None else None,
            )
            payments.apply_invoice(invoice, charge, supporter, subscription, version)
            report.differences.append(difference)
            db.session.commit()
    for charge in progress(stripe_api.list_charges(since), "Charges"):
        report.charges += 1
        lock_customer(customer_key(charge))
        difference = _charge_difference(charge)
        if difference:
            payments.apply_charge(charge, version)
            report.differences.append(difference)
        db.session.commit()
    return report


def _new_customer(customer_id: str) -> tuple[str | None, str | None]:
    """Email and name of a customer we have no supporter for yet (read from Stripe)."""
    known = supporters.is_known(customer_id)
    db.session.rollback()
    customer = None if known else stripe_api.retrieve_customer(customer_id)
    if not customer or customer.get("deleted"):
        return None, None
    return customer.get("email"), customer.get("name")


def _paying_charge(invoice: dict) -> dict | None:
    """The charge that paid an invoice, with its refunds (read from Stripe)."""
    intent_id = payments.invoice_payment_intent(invoice)
    if invoice["status"] != "paid" or not intent_id:
        return None
    charge = (stripe_api.retrieve_payment_intent(intent_id) or {}).get("latest_charge")
    return charge if isinstance(charge, dict) else None
