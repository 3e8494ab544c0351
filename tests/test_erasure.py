"""Erasure that really erases: after it, a logical dump of the whole database holds the
reader's name and addresses in no letter case and no spelling, before and after more of
their events arrive, and the books still add up.

The reader pays as "ليلى حداد" with `Layla.Haddad@Example.ORG` (typed in mixed case),
gives twice (two Stripe customers), changes their address at Stripe, has mails refused
by an SMTP server that quotes the address, and an event fails with an error quoting them.
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from support import audit
from support.extensions import db
from support.models import OutboundEmail, Payment, StaffAction, StripeEvent, Supporter
from support.privacy import erasure
from support.privacy.redaction import REDACTED
from tests.conftest import free_port
from tests.factories import signed_in
from tests.helpers.erasure import logical_dump, spellings
from tests.stripe_history import (
    actual_ledger,
    apply_due,
    deliver,
    due_now,
    expected_ledger,
    give,
    oldest_first,
    post_event,
)

NAME = "ليلى حداد"
EMAIL = "Layla.Haddad@Example.ORG"
NEW_EMAIL = "L.Haddad@Example.NET"
ADDRESS = {"line1": "12 Hamra Street", "city": "Beirut", "postal_code": "1103"}
PHONE = "+961 1 234 567"


def leaks(text: str) -> list[str]:
    """Every spelling of the reader's name, addresses or phone found in `text`."""
    folded = text.casefold()
    found = [s for v in (NAME, EMAIL, NEW_EMAIL) for s in spellings(v) if s.casefold() in folded]
    found += [v for v in (PHONE, ADDRESS["line1"]) if v.casefold() in folded]
    return sorted(found)


class RefusingHandler:
    """An SMTP server that refuses the reader, quoting the address as real servers do."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "haddad" in address.lower():
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return "250 Message accepted for delivery"


@pytest.fixture
def refusing_smtp(app):
    from aiosmtpd.controller import Controller

    controller = Controller(RefusingHandler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{controller.port}?timeout=5"
    yield
    controller.stop()


def deliver_new(client, emulator, seen: set[str]) -> dict[str, str]:
    """Deliver and apply every event not delivered yet; statuses by event id."""
    statuses = {}
    for event in oldest_first(emulator):
        if event["id"] not in seen:
            seen.add(event["id"])
            statuses[event["id"]] = deliver(client, event)
    return statuses


def store_as_before(emulator) -> None:
    """Rows as the inbox stored them before payloads were reduced: the whole body, JSON
    escaped or raw UTF-8, and one whose text quotes the reader in other spellings."""
    customer = emulator.events("customer.created")[0]["data"]["object"]["id"]
    bodies = [json.loads(json.dumps(e)) for e in oldest_first(emulator)]
    entities = NAME.encode("ascii", "xmlcharrefreplace").decode()
    back = f"https://x.test/?n={quote(NAME)}&e={quote(EMAIL.upper(), safe='')}"
    charge = {"id": "ch_before", "object": "charge", "customer": customer,
              "description": f"Gift from {entities}", "metadata": {"back": back},
              "billing_details": {"address": ADDRESS, "phone": PHONE}}  # fmt: skip
    free_text = {"id": "evt_before_text", "object": "event", "type": "charge.refunded",
                 "created": 1, "livemode": False, "data": {"object": charge}}  # fmt: skip
    for number, body in enumerate([*bodies, free_text]):
        body["id"] = f"evt_before_{number}"
        db.session.add(
            StripeEvent(
                id=body["id"],
                type=body["type"],
                created=db.func.now(),
                payload=json.dumps(body, ensure_ascii=number % 2 == 0),
                status="processed",
                attempts=1,
            )
        )
    db.session.commit()


def test_erasure_leaves_no_trace_in_a_dump_and_later_events_still_count(
    client, emulator, refusing_smtp, runner
):
    seen: set[str] = set()
    session, sub_id, _ = give(client, emulator, "month", email=EMAIL, name=NAME, lang="ar")
    gift, _, gift_charge = give(client, emulator, "once", email=EMAIL, name=NAME)
    assert session["customer"] != gift["customer"]  # one reader, two Stripe customers
    assert set(deliver_new(client, emulator, seen).values()) <= {"processed", "ignored"}
    # One row per customer: the address typed at Checkout merges nothing.
    supporter, later_row = db.session.scalars(sa.select(Supporter).order_by(Supporter.id)).all()
    assert (supporter.email, supporter.name) == (EMAIL.lower(), NAME)
    assert (later_row.email, later_row.stripe_customer_id) == (EMAIL.lower(), gift["customer"])

    # The address changes at Stripe: the old one is in the event's previous_attributes.
    emulator.update_customer(session["customer"], email=NEW_EMAIL)
    deliver_new(client, emulator, seen)
    assert supporter.email == NEW_EMAIL.lower()

    # A renewal fails: the reader is owed a mail, which the server refuses.
    emulator.fail_renewal(sub_id)
    deliver_new(client, emulator, seen)
    mails = db.session.scalars(sa.select(OutboundEmail)).all()
    assert {m.kind for m in mails} == {"thank_you", "payment_failed"}
    for mail in mails:
        assert mail.status == "failed" and "Recipient address rejected" in mail.last_error
        assert not leaks(mail.last_error) and "***@example." in mail.last_error

    # A refund fails with an error quoting the reader, and waits for its next attempt.
    emulator.fail_next(status=400, type="invalid_request_error",
                       message=f"Customer {NAME} <{NEW_EMAIL}> is under review")  # fmt: skip
    emulator.refund(gift_charge)
    assert "failed" in deliver_new(client, emulator, seen).values()
    failed = db.session.scalar(sa.select(StripeEvent).where(StripeEvent.status == "failed"))
    assert NAME in failed.last_error  # the worker did not know the name; erasure must
    assert NEW_EMAIL.lower() not in failed.last_error.lower()  # addresses never get there

    # An event still waiting to be applied holds the contact, and so do rows stored
    # before payloads were reduced.
    first, second = emulator.events("checkout.session.completed")[::-1]
    waiting = {**first, "id": first["id"] + "_waiting"}
    waiting["type"] = "checkout.session.async_payment_succeeded"
    assert post_event(client, waiting).status_code == 200
    store_as_before(emulator)
    assert leaks(logical_dump())  # the test has something to find

    result = runner.invoke(args=["supporters", "erase", NEW_EMAIL.upper()])
    assert result.exit_code == 0, result.output
    assert leaks(logical_dump()) == []
    # Both rows went: the second holds the old address, which the reader's events show.
    assert "#1, #2" in result.output
    db.session.expire_all()
    assert (supporter.email, supporter.name) == (None, None) and supporter.erased_at
    assert (later_row.email, later_row.name) == (None, None) and later_row.erased_at
    assert failed.status == "failed" and failed.last_error is None
    assert all(m.last_error is None and m.context == "{}" for m in mails)

    # More of the reader's events: a renewal, the customer renamed at Stripe, the first
    # session delivered again, the second one (the other customer) in a new event, and
    # the failed refund and the waiting event applied.
    emulator.recover(sub_id)
    emulator.renew(sub_id)
    emulator.update_customer(session["customer"], name="ليلى")
    statuses = deliver_new(client, emulator, seen)
    assert set(statuses.values()) <= {"processed", "ignored"}
    assert post_event(client, first).status_code == 200
    again = {**second, "id": second["id"] + "_again"}
    assert post_event(client, again).status_code == 200
    stored = db.session.get(StripeEvent, again["id"]).payload
    assert leaks(stored) == [] and REDACTED in stored  # never stored, not even for a moment
    due_now()
    apply_due()
    db.session.expire_all()
    assert db.session.scalar(
        sa.select(sa.func.count()).where(StripeEvent.status.not_in(("processed", "ignored")))
    ) == 0  # fmt: skip
    assert leaks(logical_dump()) == []

    rows = db.session.scalars(sa.select(Supporter).order_by(Supporter.id)).all()
    assert rows == [supporter, later_row]  # later events brought no new row
    assert all((row.email, row.name) == (None, None) for row in rows)
    ledger, expected = actual_ledger(), expected_ledger(emulator)
    assert ledger["payments"] == expected["payments"] and len(ledger["payments"]) == 4
    assert ledger["subscriptions"] == expected["subscriptions"]
    refunded = db.session.scalar(sa.select(Payment).filter_by(stripe_id=gift["payment_intent"]))
    assert (refunded.status, refunded.refunded_amount) == ("refunded", 500)
    assert {p.supporter_id for p in db.session.scalars(sa.select(Payment))} == {
        supporter.id,
        later_row.id,
    }


def test_the_inbox_shows_a_redacted_event(client, emulator):
    give(client, emulator, "once", email=EMAIL, name=NAME)
    for event in oldest_first(emulator):
        deliver(client, event)
    supporter = db.session.scalar(sa.select(Supporter))
    erasure.erase_supporter(supporter)
    db.session.commit()
    signed_in(client)
    for path in ("/staff/events", f"/staff/supporters/{supporter.id}"):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "checkout.session.completed" in page
        assert REDACTED in page and leaks(page) == []


def test_an_erasure_ended_by_a_deadlock_runs_again(client, emulator, runner):
    """PostgreSQL ends the erasure to break a deadlock with another writer of the reader's
    rows (as a worker applying their events is): the erasure runs again and succeeds once."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("deadlocks between writers are PostgreSQL's (SQLite has one writer)")
    give(client, emulator, email=EMAIL, name=NAME)
    seen: set = set()
    deliver_new(client, emulator, seen)
    supporter = db.session.scalar(sa.select(Supporter))
    event_id = emulator.events("customer.created")[0]["id"]
    engine = db.engine
    holding, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        """Hold the subscription, wait until the erasure waits for it, then write an
        event the erasure has redacted: each now waits for the other."""
        try:
            with engine.connect() as connection, connection.begin():
                # PostgreSQL ends the transaction whose wait outlasts its deadlock_timeout
                # first: this one waits far longer than the erasure does.
                connection.execute(sa.text("SET deadlock_timeout = '30s'"))
                connection.execute(
                    sa.text("SELECT id FROM subscription WHERE supporter_id = :id FOR UPDATE"),
                    {"id": supporter.id},
                )
                holding.set()
                waiting = sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                deadline = time.monotonic() + 10
                while not connection.execute(waiting).scalar():
                    assert time.monotonic() < deadline, "the erasure never waited"
                    time.sleep(0.02)
                connection.execute(
                    sa.text("UPDATE stripe_event SET attempts = attempts WHERE id = :id"),
                    {"id": event_id},
                )
        except BaseException as error:
            errors.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=other_writer, daemon=True)
    thread.start()
    assert holding.wait(10)
    # The erasure's connection (the session's) looks for a deadlock after 3 s of waiting,
    # time enough for the other writer to close the circle even on a busy machine.
    db.session.execute(sa.text("SET deadlock_timeout = '3s'"))
    result = runner.invoke(args=["supporters", "erase", EMAIL])
    assert done.wait(10)
    assert errors == [], errors
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert supporter.erased_at is not None and supporter.email is None
    erasures = db.session.scalars(
        sa.select(StaffAction).where(StaffAction.action == audit.ERASE)
    ).all()
    assert [row.supporter_id for row in erasures] == [supporter.id]
    assert not leaks(db.session.get(StripeEvent, event_id).payload)


def test_the_command_says_when_stripe_did_not_delete_the_customer(client, emulator, runner):
    """Stripe failing to delete the customer erases nothing; the command says so, exits 1,
    and the attempt is on the audit log as failed; run again, it erases."""
    give(client, emulator, email=EMAIL, name=NAME)
    deliver_new(client, emulator, set())
    emulator.fail_next(status=500)
    failed = runner.invoke(args=["supporters", "erase", EMAIL, "--delete-stripe-customer"])
    assert failed.exit_code == 1
    assert "Stripe did not delete the customer" in failed.output
    assert "nothing was erased" in failed.output and EMAIL.lower() not in failed.output.lower()
    db.session.expire_all()
    supporter = db.session.scalar(sa.select(Supporter))
    assert supporter.email == EMAIL.lower() and supporter.erased_at is None
    [attempt] = db.session.scalars(sa.select(StaffAction)).all()
    assert (attempt.action, attempt.outcome) == (audit.ERASE, audit.FAILED)
    again = runner.invoke(args=["supporters", "erase", EMAIL, "--delete-stripe-customer"])
    assert again.exit_code == 0, again.output
    db.session.expire_all()
    assert supporter.erased_at is not None and supporter.email is None
