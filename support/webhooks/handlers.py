"""What each Stripe event type does to the ledger, in two steps.

`fetch(event)` reads from Stripe what applying the event needs: the object
as Stripe has it *now* (the payload is only a pointer), and the customer
when the supporter is new. It runs outside any database transaction, after
taking a freshness version from the database. `apply(event, fetched)` then
writes the ledger in the worker's short transaction, under the customer's
lock. Every row keeps the version of the read it holds and an older read
never overwrites a newer one, so an old event applied late, a duplicate, a
replay or two workers racing all end with the current truth.

Checkout sessions are applied from the payload: a completed session does
not change any more; its subscription or payment intent is read fresh. Its
contact is in the stored payload until the event is applied (`payloads`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa

from support import audit, stripe_api
from support.alerts import chat as staff_chat
from support.extensions import db
from support.ledger import cards, changes, checkouts, payments, subscriptions, supporters
from support.ledger.fields import attribution_fields, timestamp
from support.ledger.locks import customer_key, lock_customer
from support.ledger.versions import read_version
from support.reminders import renewals
from support.webhooks import payloads


@dataclass
class Fetched:
    """What an event's fetch read: objects by name (None: Stripe has no such object)."""

    version: int = 0
    objects: dict[str, dict | None] = field(default_factory=dict)

    def get(self, name: str) -> dict | None:
        """An object read, or None."""
        return self.objects.get(name)


def _object(event: dict) -> dict:
    return event["data"]["object"]


def _read_db(check: Callable[[str], bool], key: str | None) -> bool:
    """A database check made between Stripe reads: its transaction ends at once."""
    if not key:
        return False
    try:
        return check(key)
    finally:
        db.session.rollback()


def _customer_if_new(fetched: Fetched, customer_id: str | None) -> None:
    """Read the customer too when no supporter has it yet (a new supporter's details)."""
    if customer_id and not _read_db(supporters.is_known, customer_id):
        fetched.objects["customer"] = stripe_api.retrieve_customer(customer_id)


def _supporter(
    customer_id: str | None,
    fetched: Fetched,
    email: str | None = None,
    name: str | None = None,
    lang: str | None = None,
    owner_id: int | None = None,
) -> sa.Row | None:
    """The customer's supporter, else the supporter of the object when we have it
    (`owner_id`); a new one from the customer read (or the given details)."""
    customer = fetched.get("customer")
    version = 0
    if customer and not customer.get("deleted"):
        email = customer.get("email") or email
        name = customer.get("name") or name
        version = fetched.version
    return supporters.upsert_supporter(customer_id, email, name, lang, version, owner_id)


def _lang(obj: dict | None) -> str | None:
    return ((obj or {}).get("metadata") or {}).get("lang")


def _read_card(fetched: Fetched, sub: dict | None) -> None:
    """The payment method the subscription's renewals are charged to, with it.

    Its own default comes expanded with the subscription (no other read); else the
    customer's invoice default (the customer is read for that only then).
    """
    if sub is None:
        return
    method = sub.get("default_payment_method")
    if not isinstance(method, dict):
        customer = fetched.get("customer")
        if not method and customer is None:
            customer = stripe_api.retrieve_customer(sub["customer"])
        method_id = cards.charged_payment_method(sub, customer)
        method = stripe_api.retrieve_payment_method(method_id) if method_id else None
    fetched.objects["payment_method"] = method


def _card(fetched: Fetched) -> dict | None:
    """The card columns read with the subscription; None when no card was read."""
    if "payment_method" not in fetched.objects:
        return None
    return cards.card_fields(fetched.get("payment_method"))


# customer.subscription.*


def fetch_subscription(event: dict) -> Fetched:
    """The subscription as it is now (and its customer if new to us)."""
    fetched = Fetched(read_version())
    sub = fetched.objects["subscription"] = stripe_api.retrieve_subscription(_object(event)["id"])
    if sub is not None:
        _customer_if_new(fetched, sub["customer"])
        _read_card(fetched, sub)
    return fetched


def _write_subscription(sub: dict, fetched: Fetched) -> tuple[sa.Row, sa.Row | None]:
    """The subscription read as our row, and its supporter."""
    known = subscriptions.find_subscription(sub["id"])
    owner_id = known.supporter_id if known is not None else None
    supporter = _supporter(sub["customer"], fetched, lang=_lang(sub), owner_id=owner_id)
    row = subscriptions.apply_subscription(sub, supporter, fetched.version, _card(fetched))
    # What supporters asked for on the account page, now that Stripe shows it.
    changes.apply_changes(row, supporter, fetched.version)
    return row, supporter


def apply_subscription(event: dict, fetched: Fetched) -> None:
    """Write the subscription as it is now."""
    lock_customer(customer_key(_object(event)))
    sub = fetched.get("subscription")
    if sub is not None:
        row, supporter = _write_subscription(sub, fetched)
        subscriptions.queue_support_stopped(sub, supporter)
        staff_chat.subscription_ended(sub, row)
        # And what staff asked for on the supporter's page.
        audit.confirm_cancellations(row.stripe_id, row.status, row.cancel_at_period_end)


# invoice.paid / invoice.payment_failed


def fetch_invoice(event: dict) -> Fetched:
    """The invoice as it is now; the charge that paid it; its subscription if new to us."""
    fetched = Fetched(read_version())
    invoice = fetched.objects["invoice"] = stripe_api.retrieve_invoice(_object(event)["id"])
    subscription_id = payments.invoice_subscription_id(invoice) if invoice else None
    if subscription_id is None:
        return fetched  # not one of our subscriptions; one-time gifts come through Checkout
    intent_id = payments.invoice_payment_intent(invoice)
    if invoice["status"] == "paid" and intent_id:
        fetched.objects["intent"] = stripe_api.retrieve_payment_intent(intent_id)
    # A failure's mail depends on the subscription as it is now (still collecting, or
    # ended), so it is read for every failed invoice; otherwise only when new to us.
    failed = invoice["status"] != "paid" and invoice.get("attempted")
    if failed or not _read_db(subscriptions.is_known, subscription_id):
        fetched.objects["subscription"] = stripe_api.retrieve_subscription(subscription_id)
    _customer_if_new(fetched, invoice["customer"])
    _read_card(fetched, fetched.get("subscription"))
    return fetched


def apply_invoice(event: dict, fetched: Fetched) -> None:
    """Write the invoice's payment (and its subscription, when we did not have it)."""
    lock_customer(customer_key(_object(event)))
    invoice = fetched.get("invoice")
    subscription_id = payments.invoice_subscription_id(invoice) if invoice else None
    if subscription_id is None:
        return
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = subscriptions.find_subscription(subscription_id)
    supporter = _supporter(
        invoice["customer"],
        fetched,
        invoice.get("customer_email"),
        invoice.get("customer_name"),
        _lang(details),
        subscription.supporter_id if subscription is not None else None,
    )
    fetched_sub = fetched.get("subscription")
    if fetched_sub is not None and supporter is not None:
        # Written unless ours is newer; the row as it stands either way.
        subscription = subscriptions.apply_subscription(
            fetched_sub, supporter, fetched.version, _card(fetched)
        )
        subscriptions.queue_support_stopped(fetched_sub, supporter)
    charge = (fetched.get("intent") or {}).get("latest_charge")
    charge = charge if isinstance(charge, dict) else None
    payments.apply_invoice(invoice, charge, supporter, subscription, fetched.version)
    if subscription is not None:
        payments.queue_payment_failed(invoice, supporter, subscription)
        staff_chat.invoice_given_up(invoice, subscription)


# invoice.upcoming


def fetch_upcoming(event: dict) -> Fetched:
    """The subscription that renews, as it is now, if it may be owed a reminder.

    The upcoming invoice is a preview with no id: there is nothing of it to read
    again. The ledger says first whether its subscription is reminded at all, so
    most renewals cost no Stripe read (`renewals.worth_reading`).
    """
    fetched = Fetched()
    subscription_id = payments.invoice_subscription_id(_object(event))
    if not _read_db(renewals.worth_reading, subscription_id):
        return fetched
    fetched.version = read_version()
    sub = fetched.objects["subscription"] = stripe_api.retrieve_subscription(subscription_id)
    _read_card(fetched, sub)
    return fetched


def apply_upcoming(event: dict, fetched: Fetched) -> None:
    """Write the subscription as it is now; owe the renewal reminder if it still renews."""
    sub = fetched.get("subscription")
    if sub is None:
        return
    lock_customer(customer_key(sub))
    row, supporter = _write_subscription(sub, fetched)
    renewals.queue_reminder(_object(event), row, supporter)


# charge.refunded / charge.dispute.created


def fetch_charge(event: dict) -> Fetched:
    """The charge as it is now (a dispute names its charge)."""
    obj = _object(event)
    charge_id = obj["charge"] if obj.get("object") == "dispute" else obj["id"]
    fetched = Fetched(read_version())
    fetched.objects["charge"] = stripe_api.retrieve_charge(charge_id)
    return fetched


def apply_charge(event: dict, fetched: Fetched) -> None:
    """Refunds and disputes as they are now onto the payment."""
    charge = fetched.get("charge")
    if charge is not None:
        lock_customer(customer_key(charge))
        row = payments.apply_charge(charge, fetched.version)
        if row is not None:  # staff's refunds of it, now that Stripe shows them
            audit.confirm_refunds([row.stripe_charge_id, row.stripe_id], row.refunded_amount)


# checkout.session.*


def fetch_checkout(event: dict) -> Fetched:
    """The session's subscription or payment intent as it is now."""
    session = _object(event)
    fetched = Fetched(read_version())
    if session["mode"] == "subscription" and session.get("subscription"):
        fetched.objects["subscription"] = stripe_api.retrieve_subscription(session["subscription"])
    elif session["mode"] == "payment" and session.get("payment_intent"):
        fetched.objects["intent"] = stripe_api.retrieve_payment_intent(session["payment_intent"])
    email, _name = payloads.session_contact(session)
    if not email:
        _customer_if_new(fetched, session.get("customer"))
    _read_card(fetched, fetched.get("subscription"))
    return fetched


def apply_checkout(event: dict, fetched: Fetched) -> None:
    """The supporter, their first subscription or gift, the attempt completed, the thank-you."""
    session = _object(event)
    lock_customer(customer_key(session))
    email, name = payloads.session_contact(session)
    owner_id = checkouts.attempt_supporter_id(session["id"])
    supporter = _supporter(session.get("customer"), fetched, email, name, _lang(session), owner_id)
    frequency = "once"
    if session["mode"] == "subscription" and session.get("subscription"):
        sub = fetched.get("subscription")
        frequency = "month"
        if sub is not None and supporter is not None:
            row = subscriptions.apply_subscription(sub, supporter, fetched.version, _card(fetched))
            frequency = row.interval
    elif fetched.get("intent") is not None:
        meta = session.get("metadata") or {}
        payments.apply_one_time(fetched.get("intent"), supporter, meta, fetched.version)
    context = {
        "amount": session.get("amount_total"),
        "currency": session.get("currency"),
        "frequency": frequency,
        "session_id": session["id"],
    }
    completed_at = timestamp(event["created"])
    checkouts.complete_checkout(session, supporter, completed_at, context)
    if checkouts.session_is_paid(session):
        meta = attribution_fields(session.get("metadata"))
        staff_chat.new_gift(
            session["id"],
            supporter.id if supporter is not None else None,
            context["amount"],
            context["currency"],
            frequency,
            _lang(session) or (supporter.lang if supporter is not None else None),
            meta["source"],
            meta["campaign"],
            completed_at,
        )


# customer.updated


def fetch_customer(event: dict) -> Fetched:
    """The customer as it is now, if they are one of our supporters."""
    customer_id = _object(event)["id"]
    fetched = Fetched()
    if _read_db(supporters.is_known, customer_id):
        fetched.version = read_version()
        fetched.objects["customer"] = stripe_api.retrieve_customer(customer_id)
    return fetched


def apply_customer(event: dict, fetched: Fetched) -> None:
    """A supporter's email and name as the customer has them now."""
    customer = fetched.get("customer")
    if customer is not None:
        lock_customer(customer_key(_object(event)))
        supporters.apply_customer(customer, fetched.version)


class Handler(NamedTuple):
    """How one event type is read from Stripe and written."""

    fetch: Callable[[dict], Fetched]
    apply: Callable[[dict, Fetched], None]


_SUBSCRIPTION = Handler(fetch_subscription, apply_subscription)
_INVOICE = Handler(fetch_invoice, apply_invoice)
_CHARGE = Handler(fetch_charge, apply_charge)
_CHECKOUT = Handler(fetch_checkout, apply_checkout)

HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _CHECKOUT,
    "checkout.session.async_payment_succeeded": _CHECKOUT,
    "checkout.session.async_payment_failed": _CHECKOUT,
    "customer.subscription.created": _SUBSCRIPTION,
    "customer.subscription.updated": _SUBSCRIPTION,
    "customer.subscription.deleted": _SUBSCRIPTION,
    "customer.subscription.paused": _SUBSCRIPTION,
    "customer.subscription.resumed": _SUBSCRIPTION,
    "invoice.paid": _INVOICE,
    "invoice.payment_failed": _INVOICE,
    "invoice.upcoming": Handler(fetch_upcoming, apply_upcoming),
    "charge.refunded": _CHARGE,
    "charge.dispute.created": _CHARGE,
    "customer.updated": Handler(fetch_customer, apply_customer),
}
