"""A supporter's stored webhook events, found and redacted when the supporter is erased.

Payloads are reduced when they arrive (`support.webhooks.payloads`), but an
event still waiting to be applied, one stored before payloads were reduced,
or an error text can hold the reader's name or address. An event is the
reader's when it names one of their Stripe objects (customer, subscriptions,
checkout sessions, one-time gifts) or holds one of their addresses in any
spelling. A reader who gave twice has two Stripe customers, and may have
typed another address or name the second time, so the customers, addresses
and names in the personal fields of the reader's events count as theirs too,
and are looked for in turn (a few rounds).

The reader's events lose their personal fields, every spelling of every
name and address found, whatever their metadata `source` held beyond the
article and its campaign, and their error text. Anyone else's event has the
reader's names redacted where they stand as whole words (someone of the same
name), and its error text cleared when it mentions the reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from support.extensions import db
from support.models import CheckoutAttempt, Payment, StripeEvent, Subscription, Supporter
from support.privacy import redaction, stored_sources

# Enough for a reader with a few customers; each round looks only for what the last one found.
ROUNDS = 4
EMAIL_FIELDS = frozenset({"email", "customer_email", "receipt_email"})
NAME_FIELDS = frozenset({"name", "customer_name"})


@dataclass
class Reader:
    """What marks one reader's events: Stripe ids, addresses, names."""

    ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def add(self, other: Reader) -> Reader:
        """Take in what `other` holds; what was new."""
        new = Reader(other.ids - self.ids, other.emails - self.emails, other.names - self.names)
        self.ids |= new.ids
        self.emails |= new.emails
        self.names |= new.names
        return new


def stripe_ids(supporter: Supporter) -> set[str]:
    """The ids of the supporter's Stripe objects: the customer, subscriptions, checkout
    sessions, and one-time gifts (made without a customer, they name no other)."""
    ids = {supporter.stripe_customer_id}
    ids.update(
        db.session.scalars(
            sa.select(Subscription.stripe_id).where(Subscription.supporter_id == supporter.id)
        )
    )
    ids.update(
        db.session.scalars(
            sa.select(CheckoutAttempt.session_id).where(
                CheckoutAttempt.supporter_id == supporter.id
            )
        )
    )
    gifts = db.session.execute(
        sa.select(Payment.stripe_id, Payment.stripe_charge_id).where(
            Payment.supporter_id == supporter.id, Payment.kind == "one_time"
        )
    )
    for intent, charge in gifts:
        ids.update((intent, charge))
    return {i for i in ids if i}


def personal_fields(payload: str) -> Reader:
    """The customers, addresses and names an event's fields hold."""
    found = Reader()
    try:
        parsed = json.loads(payload)
    except ValueError:
        return found

    def walk(value: object, key: str | None, owner: dict) -> None:
        if isinstance(value, dict):
            if value.get("object") == "customer" and isinstance(value.get("id"), str):
                found.ids.add(value["id"])
            for name, item in value.items():
                walk(item, name, value)
        elif isinstance(value, list):
            for item in value:
                walk(item, key, owner)
        elif isinstance(value, str) and value != redaction.REDACTED:
            if key == "customer":
                found.ids.add(value)
            elif key in EMAIL_FIELDS:
                found.emails.add(value)
            elif key in NAME_FIELDS and redaction.is_personal(key, value, owner):
                found.names.add(value)

    walk(parsed, None, {})
    found.emails = set(redaction.needles(found.emails))
    found.names = set(redaction.needles(found.names))
    return found


def _mentions(column: sa.ColumnElement[str], values: Iterable[str]) -> sa.ColumnElement[bool]:
    """`column` holds any spelling of `values`, ignoring case (a full scan: erasure is rare)."""
    forms = sorted({form for value in values for form in redaction.spellings(value)})
    return sa.or_(sa.false(), *(column.icontains(form, autoescape=True) for form in forms))


def _owned_events(reader: Reader) -> dict[str, StripeEvent]:
    """The reader's events; `reader` takes in what their personal fields hold."""
    owned: dict[str, StripeEvent] = {}
    new = Reader(set(reader.ids), set(reader.emails))
    for _ in range(ROUNDS):
        if not (new.ids or new.emails):
            break
        query = sa.select(StripeEvent).where(
            sa.or_(
                *(StripeEvent.payload.contains(i, autoescape=True) for i in sorted(new.ids)),
                _mentions(StripeEvent.payload, new.emails),
            )
        )
        by_email = redaction.pattern(reader.emails)
        learned = Reader()
        for event in db.session.scalars(query):
            # The query is broad (LIKE ignores case on SQLite); the event must name an id
            # exactly, or an address as a whole.
            mine = any(i in event.payload for i in reader.ids) or bool(
                by_email and by_email.search(event.payload)
            )
            if event.id in owned or not mine:
                continue
            owned[event.id] = event
            learned.add(personal_fields(event.payload))
        new = reader.add(learned)
    return owned


def redact_events(supporter: Supporter) -> tuple[int, Reader]:
    """Redact the supporter's events and clear their error texts (see the module); how
    many payloads changed, and the reader as their events showed them (the customers
    and addresses found). Not committed."""
    reader = Reader(
        stripe_ids(supporter),
        set(redaction.needles([supporter.email])),
        set(redaction.needles([supporter.name])),
    )
    owned = _owned_events(reader)
    values = sorted(reader.emails | reader.names)
    changed = 0
    for event in owned.values():
        # Metadata sources stored before they were reduced may carry any address.
        cleaned = stored_sources.clean_payload(event.payload) or event.payload
        payload = redaction.redact_payload(cleaned, values)
        changed += payload != event.payload
        event.payload, event.last_error = payload, None
    names = sorted(reader.names)
    named = redaction.pattern(names)
    mentioned = redaction.pattern(values)
    others = sa.select(StripeEvent).where(
        sa.or_(
            _mentions(StripeEvent.payload, names),
            _mentions(sa.func.coalesce(StripeEvent.last_error, ""), values),
        )
    )
    for event in db.session.scalars(others):
        if event.id in owned:
            continue
        if named is not None and named.search(event.payload):
            event.payload = redaction.redact_payload(event.payload, names, structural=False)
            changed += 1
        if mentioned is not None and mentioned.search(event.last_error or ""):
            event.last_error = None
    return changed, reader
