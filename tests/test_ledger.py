"""The ledger through real Stripe histories (the emulator), in order and out of order.

After every step the ledger must equal what the emulator's final state implies.
"""

import json
import random
import threading

import pytest
import requests
import sqlalchemy as sa

from support.extensions import db
from support.models import (
    CheckoutAttempt,
    OutboundEmail,
    Payment,
    StripeEvent,
    Subscription,
    Supporter,
    utcnow,
)
from tests.stripe_history import (
    actual_ledger,
    deliver,
    expected_ledger,
    give,
    oldest_first,
    signature,
)


def deliver_new(client, emulator, seen: set) -> None:
    """Deliver and apply, in order, every event not delivered yet; each must succeed."""
    for event in oldest_first(emulator):
        if event["id"] not in seen:
            seen.add(event["id"])
            assert deliver(client, event) in ("processed", "ignored"), event["type"]


def mails(kind=None):
    query = sa.select(OutboundEmail)
    if kind:
        query = query.where(OutboundEmail.kind == kind)
    return db.session.scalars(query).all()


def test_monthly_gift_in_order(client, emulator):
    session, sub_id, _ = give(
        client, emulator, amount="5", lang="ar", source="https://news.example.org/a"
    )
    deliver_new(client, emulator, set())
    assert actual_ledger() == expected_ledger(emulator)

    supporter = db.session.scalar(sa.select(Supporter))
    assert supporter.email == "reader@example.org"
    assert supporter.lang == "ar"
    assert supporter.first_supported_at is not None
    attempt = db.session.scalar(sa.select(CheckoutAttempt))
    assert attempt.completed_at is not None and attempt.supporter_id == supporter.id
    [thanks] = mails()
    assert (thanks.key, thanks.kind, thanks.lang) == (f"thanks:{session['id']}", "thank_you", "ar")
    context = json.loads(thanks.context)
    assert context == {
        "amount": 500,
        "currency": "usd",
        "frequency": "month",
        "session_id": session["id"],
    }
    payment = db.session.scalar(sa.select(Payment))
    assert payment.kind == "subscription" and payment.subscription.stripe_id == sub_id
    assert payment.stripe_charge_id.startswith("ch_")
    assert payment.source == "https://news.example.org/a"


def test_one_time_gift(client, emulator):
    session, _, charge = give(client, emulator, frequency="once", amount="12")
    deliver_new(client, emulator, set())
    assert actual_ledger() == expected_ledger(emulator)
    payment = db.session.scalar(sa.select(Payment))
    assert (payment.kind, payment.stripe_id, payment.stripe_charge_id) == (
        "one_time",
        session["payment_intent"],
        charge,
    )
    assert json.loads(mails()[0].context)["frequency"] == "once"


def test_a_whole_life_step_by_step(client, emulator):
    seen: set = set()
    _, sub_id, first_charge = give(client, emulator)
    deliver_new(client, emulator, seen)
    steps = [
        lambda: emulator.renew(sub_id),
        lambda: emulator.fail_renewal(sub_id),
        lambda: emulator.recover(sub_id),
        lambda: emulator.refund(first_charge, amount=200),
        lambda: emulator.refund(first_charge),
        lambda: emulator.update_customer(
            emulator.get(sub_id)["customer"], email="New@Example.org", name="New Name"
        ),
        lambda: emulator.cancel(sub_id, at_period_end=True),
        lambda: emulator.renew(sub_id),  # the period ends: canceled
    ]
    for step in steps:
        step()
        deliver_new(client, emulator, seen)
        assert actual_ledger() == expected_ledger(emulator)
    statuses = db.session.scalars(sa.select(Payment.status).order_by(Payment.id)).all()
    assert statuses == ["refunded", "paid", "paid"]
    assert len(mails("payment_failed")) == 1
    assert len(mails("thank_you")) == 1
    assert db.session.scalar(sa.select(Supporter.email)) == "new@example.org"


def test_dispute_and_immediate_cancel(client, emulator):
    seen: set = set()
    _, sub_id, charge = give(client, emulator)
    emulator.dispute(charge)
    emulator.cancel(sub_id)
    deliver_new(client, emulator, seen)
    assert actual_ledger() == expected_ledger(emulator)
    payment = db.session.scalar(sa.select(Payment))
    assert payment.disputed is True
    assert actual_ledger()["subscriptions"][sub_id][0] == "canceled"


def history(client, emulator):
    """Two supporters, renewals, a failure and recovery, refunds, a cancellation."""
    _, sub_a, charge_a = give(client, emulator, email="a@example.org")
    _, sub_b, _ = give(client, emulator, frequency="year", amount="60", email="b@example.org")
    give(client, emulator, frequency="once", amount="3", email="a@example.org")
    emulator.renew(sub_a)
    emulator.fail_renewal(sub_b)
    emulator.recover(sub_b)
    emulator.fail_renewal(sub_a)
    emulator.refund(charge_a, amount=100)
    emulator.cancel(sub_a)


@pytest.mark.slow
@pytest.mark.parametrize("order", ["reversed", "shuffled", "duplicated"])
def test_any_order_gives_the_same_ledger(client, emulator, order):
    history(client, emulator)
    events = oldest_first(emulator)
    if order == "reversed":
        events.reverse()
    elif order == "shuffled":
        random.Random(3).shuffle(events)
    else:
        events = events + list(reversed(events)) + events
    for event in events:
        assert deliver(client, event) in ("processed", "ignored")
    assert actual_ledger() == expected_ledger(emulator)
    assert len(mails("thank_you")) == 3
    # A failure that was recovered before we heard of it needs no mail, nor one whose
    # gift was cancelled since (sub_a's): the gift as Stripe has it now decides.
    assert mails("payment_failed") == [] and mails("payment_last_attempt") == []


def test_erased_supporters_get_no_mail(client, emulator):
    give(client, emulator)
    events = oldest_first(emulator)
    subscription_created = next(e for e in events if e["type"] == "customer.subscription.created")
    deliver(client, subscription_created)
    supporter = db.session.scalar(sa.select(Supporter))
    supporter.erased_at, supporter.email, supporter.name = utcnow(), None, None
    db.session.commit()
    for event in events:
        deliver(client, event)
    assert mails() == []
    assert db.session.scalar(sa.select(Supporter.email)) is None


def test_emulator_delivers_over_http_and_ledger_follows(live_server, emulator):
    """Subscribe, renew, fail, recover, refund, cancel from the portal: webhooks over HTTP."""
    client = requests.Session()
    appeal = client.get(live_server.url + "/en/", timeout=10)
    from tests.conftest import form_tokens

    checkout = client.post(
        live_server.url + "/en/checkout",
        data={**form_tokens(appeal.text), "amount": "4", "frequency": "month", "currency": "usd"},
        allow_redirects=False,
        timeout=10,
    )
    session_id = checkout.headers["Location"].rsplit("/", 1)[-1]
    session = emulator.pay(session_id, email="http@example.org")
    sub_id = session["subscription"]
    live_server.settle()
    assert actual_ledger() == expected_ledger(emulator)
    invoice = emulator.get(emulator.get(sub_id)["latest_invoice"])
    charge = emulator.get(invoice["payments"]["data"][0]["payment"]["payment_intent"])[
        "latest_charge"
    ]
    for step in (
        lambda: emulator.renew(sub_id),
        lambda: emulator.fail_renewal(sub_id),
        lambda: emulator.recover(sub_id),
        lambda: emulator.refund(charge, amount=150),
        lambda: emulator.cancel(sub_id),
    ):
        step()
        emulator.wait_for_deliveries()
        live_server.settle()
        assert actual_ledger() == expected_ledger(emulator)
    webhook = live_server.url + "/stripe/webhook"
    assert {d.result for d in emulator.deliveries if d.url == webhook} == {200}


def test_held_events_released_in_reverse(live_server, emulator):
    emulator.hold_events = True
    try:
        client = requests.Session()
        from tests.conftest import form_tokens

        appeal = client.get(live_server.url + "/en/", timeout=10)
        checkout = client.post(
            live_server.url + "/en/checkout",
            data={
                **form_tokens(appeal.text),
                "amount": "9",
                "frequency": "year",
                "currency": "usd",
            },
            allow_redirects=False,
            timeout=10,
        )
        session = emulator.pay(checkout.headers["Location"].rsplit("/", 1)[-1])
        emulator.renew(session["subscription"])
        emulator.cancel(session["subscription"], at_period_end=True)
        held = emulator.held_events()
        assert held and actual_ledger()["subscriptions"] == {}
        for event in reversed(held):
            assert emulator.deliver(event) == 200
            live_server.settle()
    finally:
        emulator.hold_events = False
    assert actual_ledger() == expected_ledger(emulator)


def test_concurrent_duplicate_deliveries(live_server, emulator, app):
    """The same events posted at once from several threads: each stored once and
    answered 200; applied once, one mail each."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are meaningful on PostgreSQL only (SQLite has one)")
    emulator.hold_events = True
    try:
        client = app.test_client()
        history(client, emulator)
        events = emulator.held_events()
    finally:
        emulator.hold_events = False
    url = live_server.url + "/stripe/webhook"
    errors = []

    def worker(seed: int) -> None:
        http = requests.Session()
        mine = list(events)
        random.Random(seed).shuffle(mine)
        for event in mine:
            body = json.dumps(event).encode()
            answer = http.post(url, data=body, headers={"Stripe-Signature": signature(body)})
            if answer.status_code != 200:
                errors.append((event["type"], answer.status_code, answer.text[:200]))

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert db.session.scalar(sa.select(sa.func.count(StripeEvent.id))) == len(events)
    live_server.settle()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(StripeEvent.status.not_in(("processed", "ignored")))
        )
        == 0
    )
    assert actual_ledger() == expected_ledger(emulator)
    assert len(mails("thank_you")) == 3


def test_an_address_typed_again_makes_a_supporter_of_its_own(client, emulator):
    """A new Stripe customer is a new supporter, even with another supporter's address:
    that supporter's gifts, mails and language stay as they were."""
    seen: set = set()
    first, first_sub, _ = give(client, emulator, email="layla@example.org", lang="ar")
    deliver_new(client, emulator, seen)
    second, second_sub, _ = give(client, emulator, amount="1", email="LAYLA@example.org")
    once, _, _ = give(client, emulator, frequency="once", amount="3", email="layla@example.org")
    deliver_new(client, emulator, seen)
    assert actual_ledger() == expected_ledger(emulator)
    assert once["customer"] and len({first["customer"], second["customer"], once["customer"]}) == 3
    rows = db.session.scalars(sa.select(Supporter).order_by(Supporter.id)).all()
    assert [(r.stripe_customer_id, r.email, r.lang) for r in rows] == [
        (first["customer"], "layla@example.org", "ar"),
        (second["customer"], "layla@example.org", "en"),
        (once["customer"], "layla@example.org", "en"),
    ]
    query = sa.select(Subscription.stripe_id, Subscription.supporter_id)
    owners = dict(db.session.execute(query).all())
    assert owners == {first_sub: rows[0].id, second_sub: rows[1].id}
    thanks = {m.key: m.supporter_id for m in mails("thank_you")}
    assert thanks == {
        f"thanks:{first['id']}": rows[0].id,
        f"thanks:{second['id']}": rows[1].id,
        f"thanks:{once['id']}": rows[2].id,
    }
    # An address changed at Stripe to one another supporter has is written all the same.
    emulator.update_customer(first["customer"], email="Other@Example.org")
    emulator.update_customer(second["customer"], email="other@example.org")
    deliver_new(client, emulator, seen)
    db.session.expire_all()
    assert [r.email for r in rows] == ["other@example.org"] * 2 + ["layla@example.org"]
