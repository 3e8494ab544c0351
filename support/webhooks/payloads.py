"""What the inbox keeps of a webhook event: what applying it and the staff inbox need.

Stripe sends whole objects: a Checkout Session carries the reader's name,
email and address, a charge its billing details, an invoice the customer's
name, email and address, a `customer.updated` the old email in
`previous_attributes`. The worker reads every object fresh from Stripe except
Checkout Sessions, and the inbox shows what happened, so an event is stored
reduced to a list of fields (`reduce_event`): ids and the ids of related
objects, amounts, currencies, statuses, times, mode, the attribution metadata
we set (its `source` reduced to the article and campaign), periods and prices.
A field Stripe adds later is dropped until it is listed here. A personal field
that was there is stored as "[redacted]" (not left out), so staff can see
something was removed.

The one exception is the contact a Checkout Session collected
(`customer_details.email` and `.name`, `customer_email`). It is kept while the
event waits to be applied and redacted by the transaction that finishes it
(`without_contact`, from `inbox.finish`), rather than read from Stripe by the
worker, because:

- a one-time gift in payment mode is made without a Stripe customer unless
  asked for (this service asks, `customer_creation: "always"`, but sessions
  created before it did have none), so the session may be the only place Stripe
  holds that reader's contact, and reading it back would be one more request per gift
  from the workers' shared Stripe budget, and a gift that waits on Stripe;
- the same two values are written to the `supporter` row moments later, which
  erasure blanks; an event that keeps failing keeps them until it is applied,
  and erasure redacts it too (`support.privacy.erasure`);
- a replay of an applied session finds its supporter by its customer or by
  our attempt for it, so it never needs them again.

An event of a supporter already erased is stored without the contact
(`erased_contact` decides, with one indexed query, and only for sessions).
Events stored whole by earlier versions are reduced by `reduce_stored`
(`flask stripe reduce-payloads`).
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from support.attribution import reduce_source
from support.extensions import db
from support.models import CheckoutAttempt, StripeEvent, Supporter
from support.privacy.redaction import REDACTED, dump, is_personal
from support.rewrites import rewrite_column

# Plain values kept wherever they appear (never free text a reader typed).
VALUES = frozenset(
    {
        "amount",
        "amount_captured",
        "amount_due",
        "amount_paid",
        "amount_received",
        "amount_refunded",
        "amount_remaining",
        "amount_subtotal",
        "amount_total",
        "api_version",
        "attempt_count",
        "attempted",
        "behavior",
        "billing_cycle_anchor",
        "billing_reason",
        "cancel_at",
        "cancel_at_period_end",
        "canceled_at",
        "captured",
        "collection_method",
        "created",
        "currency",
        "current_period_end",
        "current_period_start",
        "deleted",
        "disputed",
        "due_date",
        "ended_at",
        "expires_at",
        "feedback",
        "finalized_at",
        "id",
        "interval",
        "interval_count",
        "livemode",
        "locale",
        "marked_uncollectible_at",
        "mode",
        "next_payment_attempt",
        "object",
        "paid",
        "paid_at",
        "payment_status",
        "period_end",
        "period_start",
        "quantity",
        "reason",
        "refunded",
        "resumes_at",
        "start_date",
        "status",
        "submit_type",
        "trial_end",
        "trial_start",
        "type",
        "unit_amount",
        "voided_at",
    }
)
# Related objects: kept as their id, also when Stripe sent them expanded.
REFERENCES = frozenset(
    {
        "charge",
        "customer",
        "invoice",
        "latest_charge",
        "latest_invoice",
        "payment_intent",
        "product",
        "subscription",
    }
)
# Nested objects and lists, reduced by the same rules.
NESTED = frozenset(
    {
        "cancellation_details",
        "data",
        "items",
        "parent",
        "pause_collection",
        "previous_attributes",
        "price",
        "recurring",
        "status_transitions",
        "subscription_details",
    }
)
# The metadata the app sets on sessions, subscriptions and payment intents.
METADATA = frozenset({"campaign", "cover_fees", "lang", "source", "variant"})
SESSION = "checkout.session"


def is_session(event_type: str) -> bool:
    """Whether events of this type carry a Checkout Session (the only ones with a contact)."""
    return event_type.startswith(SESSION + ".")


def _reference(value: object) -> object:
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str | None) else None


def _plain(value: object) -> bool:
    return isinstance(value, str | int | float | bool | None)


def reduce_metadata(metadata: dict) -> dict:
    """The metadata the app sets, its `source` reduced to the article and campaign
    (`support.attribution.reduce_source`) or left out."""
    kept = {k: v for k, v in metadata.items() if k in METADATA and _plain(v)}
    source = kept.pop("source", None)
    source = reduce_source(source) if isinstance(source, str) else None
    if source:
        kept["source"] = source
    return kept


def reduce_object(obj: dict, kind: str | None = None) -> dict:
    """The fields of a Stripe object (or a part of one) the inbox keeps; `kind` is the
    type of the object a part belongs to (for `previous_attributes`)."""
    owner = {"object": obj.get("object", kind)}
    reduced: dict = {}
    for key, value in obj.items():
        if is_personal(key, value, owner):
            reduced[key] = REDACTED
        elif key in VALUES and _plain(value):
            reduced[key] = value
        elif key in REFERENCES:
            reduced[key] = _reference(value)
        elif key == "metadata" and isinstance(value, dict):
            reduced[key] = reduce_metadata(value)
        elif key in NESTED and isinstance(value, dict):
            reduced[key] = reduce_object(value, owner["object"])
        elif key in NESTED and isinstance(value, list):
            reduced[key] = [reduce_object(item) for item in value if isinstance(item, dict)]
    return reduced


def _contact(session: dict) -> dict:
    """A session's contact as the worker reads it: `customer_details` email and name only."""
    details = session.get("customer_details")
    contact: dict = {}
    if isinstance(details, dict):
        contact["customer_details"] = {
            key: details[key]
            for key in ("email", "name")
            if key in details and _plain(details[key])
        }
    if _plain(session.get("customer_email")):
        contact["customer_email"] = session.get("customer_email")
    return contact


def reduce_event(event: dict, keep_contact: bool = True) -> dict:
    """A checked event as the inbox stores it (see the module); the session's contact
    only with `keep_contact`."""
    obj = event["data"]["object"]
    data: dict = {"object": reduce_object(obj)}
    previous = event["data"].get("previous_attributes")
    if isinstance(previous, dict):
        data["previous_attributes"] = reduce_object(previous, obj.get("object"))
    if keep_contact and obj.get("object") == SESSION:
        data["object"].update(_contact(obj))
    reduced = {key: event[key] for key in ("id", "type", "created", "livemode")}
    reduced["object"] = "event"
    if isinstance(event.get("api_version"), str):
        reduced["api_version"] = event["api_version"]
    reduced["data"] = data
    return reduced


def session_contact(session: dict) -> tuple[str | None, str | None]:
    """The email and name a stored session holds for the worker; None where redacted."""
    details = session.get("customer_details")
    details = details if isinstance(details, dict) else {}

    def present(value: object) -> str | None:
        return value if isinstance(value, str) and value and value != REDACTED else None

    email = present(details.get("email")) or present(session.get("customer_email"))
    return email, present(details.get("name"))


def _session(payload: str) -> dict | None:
    try:
        obj = json.loads(payload)["data"]["object"]
    except (ValueError, TypeError, KeyError):
        return None
    return obj if isinstance(obj, dict) and obj.get("object") == SESSION else None


def contact_values(payload: str) -> list[str]:
    """The reader's email and name a stored event still holds (none once redacted)."""
    session = _session(payload)
    if session is None:
        return []
    values = [*session_contact(session), session.get("customer_email")]
    return [v for v in values if isinstance(v, str) and v and v != REDACTED]


def without_contact(payload: str) -> str | None:
    """The stored payload with a session's contact redacted; None when it holds none."""
    if not contact_values(payload):
        return None
    event = json.loads(payload)
    obj = event["data"]["object"]
    details = obj.get("customer_details")
    if isinstance(details, dict):
        for key in ("email", "name"):
            if details.get(key):
                details[key] = REDACTED
    if obj.get("customer_email"):
        obj["customer_email"] = REDACTED
    return dump(event)


def reduce_stored_payload(payload: str, applied: bool) -> str | None:
    """A payload stored whole, reduced (a session keeps its contact until `applied`);
    None when it is reduced already or is not an event."""
    try:
        event = json.loads(payload)
        obj = event["data"]["object"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(obj, dict) or not isinstance(event.get("id"), str):
        return None
    reduced = dump(reduce_event({"created": None, "livemode": False, "type": "", **event}, True))
    if applied:
        reduced = without_contact(reduced) or reduced
    return reduced if reduced != payload else None


def reduce_stored(batch: int = 500) -> int:
    """Reduce every stored payload, a batch per transaction; how many changed.

    Each row is written only if its payload is still the one read (compare and
    set), so a worker applying the event meanwhile loses nothing.
    """

    def reduce(payload: str, status: str) -> str:
        applied = status in ("processed", "ignored")
        return reduce_stored_payload(payload, applied=applied) or payload

    return rewrite_column(StripeEvent.payload, reduce, batch, context=(StripeEvent.status,))


def erased_contact(event: dict) -> bool:
    """Whether the event is a session of a supporter already erased (then its contact is
    not stored). One indexed query, for sessions only (no other event keeps a contact);
    its read transaction ends at once, so the inbox's insert starts with a write."""
    obj = event["data"]["object"]
    if obj.get("object") != SESSION:
        return False
    # The session's customer, or the supporter our attempt recorded: a reader who gave
    # twice has two customers, and a gift may have been made without one.
    attempt = sa.select(CheckoutAttempt.supporter_id).where(
        CheckoutAttempt.session_id == str(obj.get("id"))
    )
    owner = Supporter.id == attempt.scalar_subquery()
    customer = _reference(obj.get("customer"))
    if isinstance(customer, str) and customer:
        owner = sa.or_(Supporter.stripe_customer_id == customer, owner)
    query = sa.select(Supporter.id).where(owner, Supporter.erased_at.is_not(None)).limit(1)
    try:
        return db.session.scalar(query) is not None
    finally:
        db.session.rollback()
