"""Stored webhook payloads: reduced to what applying and the inbox need, the Checkout
contact kept only until the event is applied, and never stored for an erased supporter."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.models import Payment, StripeEvent, Subscription, Supporter, utcnow
from support.privacy.redaction import REDACTED
from support.webhooks.payloads import reduce_event, reduce_stored_payload
from tests.stripe_history import apply_due, deliver, give, oldest_first, post_event

NAME = "ليلى حداد"
EMAIL = "Layla.Haddad@Example.ORG"


def payloads() -> dict[str, str]:
    """Stored payloads by event type (the last one of each type)."""
    db.session.expire_all()
    return {e.type: e.payload for e in db.session.scalars(sa.select(StripeEvent))}


def holds_contact(text: str) -> bool:
    return bool(re.search(re.escape(EMAIL), text, re.IGNORECASE)) or NAME in text


def post_all(client, emulator) -> None:
    for event in oldest_first(emulator):
        assert post_event(client, event).status_code == 200


def test_only_the_checkout_contact_is_stored_and_only_until_applied(client, emulator):
    give(client, emulator, "once", email=EMAIL, name=NAME, lang="ar")
    post_all(client, emulator)
    stored = payloads()
    assert {"checkout.session.completed", "charge.succeeded", "customer.created"} <= set(stored)
    for event_type, text in stored.items():
        assert holds_contact(text) == (event_type == "checkout.session.completed"), event_type
    charge = json.loads(stored["charge.succeeded"])["data"]["object"]
    assert charge["billing_details"] == REDACTED and charge["receipt_email"] == REDACTED
    assert charge["amount"] == 500 and charge["customer"].startswith("cus_")
    session = json.loads(stored["checkout.session.completed"])["data"]["object"]
    assert session["customer_details"] == {"email": EMAIL, "name": NAME}
    assert session["metadata"] == {"lang": "ar", "cover_fees": "0"}

    apply_due()
    supporter = db.session.scalar(sa.select(Supporter))
    assert (supporter.email, supporter.name) == (EMAIL.lower(), NAME)
    stored = payloads()
    assert not any(holds_contact(text) for text in stored.values())
    session = json.loads(stored["checkout.session.completed"])["data"]["object"]
    assert session["customer_details"] == {"email": REDACTED, "name": REDACTED}
    assert db.session.scalar(sa.select(Payment.amount)) == 500


def test_a_failed_attempt_keeps_the_contact_for_the_next_one(client, emulator):
    give(client, emulator, email=EMAIL, name=NAME)
    [completed] = emulator.events("checkout.session.completed")
    emulator.fail_next(status=400, type="invalid_request_error", count=5,
                       message=f"Customer {EMAIL} could not be read")  # fmt: skip
    deliver(client, completed)
    event = db.session.get(StripeEvent, completed["id"])
    assert event.status == "failed" and holds_contact(event.payload)
    assert EMAIL.lower() not in event.last_error.lower()
    assert event.last_error.endswith(f"Customer {REDACTED} could not be read")
    emulator.failures.clear()
    db.session.execute(sa.update(StripeEvent).values(next_attempt_at=None))
    db.session.commit()
    apply_due()
    db.session.expire_all()
    assert event.status == "processed" and not holds_contact(event.payload)
    assert db.session.scalar(sa.select(Supporter.name)) == NAME


def test_customer_updates_keep_neither_the_old_nor_the_new_address(client, emulator):
    session, _, _ = give(client, emulator, email=EMAIL, name=NAME)
    for event in oldest_first(emulator):
        deliver(client, event)
    emulator.update_customer(session["customer"], email="Layla.New@Example.ORG", name="ليلى")
    [updated] = emulator.events("customer.updated")
    assert updated["data"]["previous_attributes"]["email"] == EMAIL
    assert deliver(client, updated) == "processed"
    text = payloads()["customer.updated"]
    assert "example.org" not in text.lower() and "ليلى" not in text
    data = json.loads(text)["data"]
    assert data["previous_attributes"] == {"email": REDACTED, "name": REDACTED}
    supporter = db.session.scalar(sa.select(Supporter))  # read from Stripe, not the payload
    assert (supporter.email, supporter.name) == ("layla.new@example.org", "ليلى")


def _erase(supporter: Supporter) -> None:
    supporter.erased_at, supporter.email, supporter.name = utcnow(), None, None
    db.session.commit()


def _again(event: dict, **changes) -> dict:
    """The same object in an event Stripe sends later (a new event id)."""
    later = json.loads(json.dumps(event))
    later["id"] += "_later"
    later["data"]["object"].update(changes)
    return later


@pytest.mark.parametrize("frequency", ["month", "once"])
def test_an_erased_supporter_s_session_is_stored_redacted_and_still_applied(
    client, emulator, frequency
):
    give(client, emulator, frequency, email=EMAIL, name=NAME)
    for event in oldest_first(emulator):
        deliver(client, event)
    supporter = db.session.scalar(sa.select(Supporter))
    _erase(supporter)
    [completed] = emulator.events("checkout.session.completed")
    # The same session again, and the same as a gift made without a Stripe customer.
    for later in (_again(completed), _again(_again(completed), customer=None)):
        assert post_event(client, later).status_code == 200
        stored = db.session.get(StripeEvent, later["id"]).payload
        assert not holds_contact(stored) and REDACTED in stored
        assert apply_due() == {"processed": 1}
    db.session.expire_all()
    assert db.session.scalars(sa.select(Supporter)).all() == [supporter]
    assert (supporter.email, supporter.name) == (None, None) and supporter.erased_at
    owners = db.session.scalars(sa.select(Payment.supporter_id)).all()
    owners += db.session.scalars(sa.select(Subscription.supporter_id)).all()
    assert owners and set(owners) == {supporter.id}


def test_a_delivery_reads_at_most_one_row_and_only_for_sessions(client, emulator):
    give(client, emulator, email=EMAIL, name=NAME)
    selects: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        for event in oldest_first(emulator):
            before = len(selects)
            assert post_event(client, event).status_code == 200
            expected = 1 if event["type"].startswith("checkout.session.") else 0
            assert len(selects) - before == expected, (event["type"], selects[before:])
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert "erased_at" in selects[0]


def test_reduction_keeps_what_the_handlers_and_the_inbox_read():
    invoice = {"id": "in_1", "object": "invoice", "customer": {"id": "cus_1", "email": EMAIL},
               "customer_name": NAME, "customer_address": {"city": "Beirut"},
               "amount_paid": 500, "status": "paid", "hosted_invoice_url": "https://x",
               "parent": {"subscription_details": {"subscription": "sub_1",
                                                   "metadata": {"lang": "ar", "note": NAME}}},
               "lines": {"data": [{"description": NAME}]}}  # fmt: skip
    event = {"id": "evt_1", "type": "invoice.paid", "created": 1, "livemode": False,
             "request": {"idempotency_key": "k"}, "data": {"object": invoice}}  # fmt: skip
    reduced = reduce_event(event)
    details = {"subscription": "sub_1", "metadata": {"lang": "ar"}}
    assert reduced == {
        "id": "evt_1",
        "object": "event",
        "type": "invoice.paid",
        "created": 1,
        "livemode": False,
        "data": {
            "object": {
                "id": "in_1",
                "object": "invoice",
                "customer": "cus_1",
                "customer_name": REDACTED,
                "customer_address": REDACTED,
                "amount_paid": 500,
                "status": "paid",
                "parent": {"subscription_details": details},
            }
        },
    }


def test_a_metadata_source_is_stored_reduced_to_the_article_and_campaign():
    source = "https://news.example.org/a?utm_email=them@example.org&utm_source=nl#x"
    session = {"id": "cs_1", "object": "checkout.session",
               "metadata": {"source": source, "campaign": "spring"}}  # fmt: skip
    previous = {"metadata": {"source": "https://news.example.org/u/them%40example.org"}}
    data = {"object": session, "previous_attributes": previous}
    event = {"id": "evt_1", "type": "checkout.session.completed", "created": 1,
             "livemode": False, "data": data}  # fmt: skip
    reduced = reduce_event(event)
    assert reduced["data"]["object"]["metadata"] == {
        "source": "https://news.example.org/a?utm_source=nl",
        "campaign": "spring",
    }
    # A source that cannot be reduced is left out, as any other unknown value.
    assert reduced["data"]["previous_attributes"] == {"metadata": {}}
    assert "them" not in json.dumps(reduced)


def test_payloads_stored_whole_before_are_reduced_by_the_cli(client, emulator, runner):
    give(client, emulator, "once", email=EMAIL, name=NAME)
    events = oldest_first(emulator)
    for number, event in enumerate(events):
        waiting = event["type"] == "checkout.session.completed"
        db.session.add(
            StripeEvent(
                id=event["id"],
                type=event["type"],
                created=utcnow(),
                payload=json.dumps(event, ensure_ascii=number % 2 == 0),
                status="pending" if waiting else "processed",
            )
        )
    db.session.add(
        StripeEvent(id="evt_odd", type="x", created=utcnow(), payload="not json", status="ignored")
    )
    db.session.commit()

    result = runner.invoke(args=["stripe", "reduce-payloads"])
    assert result.exit_code == 0 and f"Reduced {len(events)} stored payloads." in result.output
    stored = payloads()
    for event_type, text in stored.items():
        assert holds_contact(text) == (event_type == "checkout.session.completed"), event_type
    assert "billing_details" in stored["charge.succeeded"]
    assert json.loads(stored["charge.succeeded"])["data"]["object"]["billing_details"] == REDACTED
    assert stored["x"] == "not json"
    assert "Reduced 0 stored payloads." in runner.invoke(args=["stripe", "reduce-payloads"]).output

    [session] = [e for e in events if e["type"] == "checkout.session.completed"]
    assert not holds_contact(reduce_stored_payload(json.dumps(session), applied=True))
    assert apply_due() == {"processed": 1}  # the waiting session still has what it needs
    assert db.session.scalar(sa.select(Supporter.name)) == NAME
    assert not any(holds_contact(text) for text in payloads().values())
