"""The ledger's one-statement writes: fresher rows win, nothing is written without
its supporter, and a webhook event takes its customer's lock once."""

import sqlalchemy as sa

from support import ledger, payments
from support.extensions import db
from support.models import Payment, Subscription
from support.webhooks import handlers
from tests.stripe_history import give, oldest_first, post_event


def _subscription(emulator, sub_id: str) -> dict:
    return emulator.get(sub_id)


def test_customer_subscription_upsert_keeps_fresher_rows(client, emulator):
    _, sub_id, _ = give(client, emulator)
    for event in oldest_first(emulator):
        assert post_event(client, event).status_code == 200
    sub = _subscription(emulator, sub_id)
    stored = db.session.scalar(sa.select(Subscription))

    newer = ledger.apply_customer_subscription({**sub, "status": "past_due"}, ledger.read_version())
    assert newer.status == "past_due" and newer.supporter_id == stored.supporter_id
    assert ledger.apply_customer_subscription({**sub, "status": "canceled"}, 1) is None
    db.session.commit()
    assert db.session.scalar(sa.select(Subscription.status)) == "past_due"


def test_customer_subscription_upsert_needs_the_supporter(client, emulator):
    _, sub_id, _ = give(client, emulator)
    sub = _subscription(emulator, sub_id)
    assert ledger.apply_customer_subscription(sub, ledger.read_version()) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 0
    db.session.rollback()


def test_payment_upsert_keeps_fresher_rows(client, emulator):
    _, _, _ = give(client, emulator, frequency="once")
    for event in oldest_first(emulator):
        assert post_event(client, event).status_code == 200
    row = db.session.scalar(sa.select(Payment))
    intent = emulator.get(row.stripe_id)
    intent["latest_charge"] = emulator.get(intent["latest_charge"])
    failed = {**intent, "status": "canceled"}
    assert payments.apply_one_time(failed, None, None, 1).status == "paid"
    assert payments.apply_one_time(failed, None, None, ledger.read_version()).status == "failed"
    db.session.rollback()
    assert db.session.scalar(sa.select(Payment.status)) == "paid"


def test_an_event_takes_its_customers_lock_once(client, emulator):
    give(client, emulator)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        for event in oldest_first(emulator):
            statements.clear()
            assert post_event(client, event).status_code == 200
            locks = [s for s in statements if "pg_advisory_xact_lock" in s]
            if engine.dialect.name == "postgresql" and event["type"] in handlers.LOCK_KEYS:
                assert len(locks) == 1, (event["type"], locks)
            if engine.dialect.name == "sqlite":
                assert locks == []
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_lock_keys_follow_the_payloads():
    subscription = {"type": "customer.subscription.updated", "data": {"object": {"customer": "c"}}}
    assert handlers.lock_key(subscription) == "c"
    charge = {"type": "charge.refunded", "data": {"object": {"id": "ch", "payment_intent": "pi"}}}
    assert handlers.lock_key(charge) == "pi"
    session = {"type": "checkout.session.completed", "data": {"object": {"id": "cs"}}}
    assert handlers.lock_key(session) == "cs"
    dispute = {"type": "charge.dispute.created", "data": {"object": {"charge": "ch"}}}
    assert handlers.lock_key(dispute) is None
    broken = {"type": "invoice.paid", "data": {"object": {"customer": None}}}
    assert handlers.lock_key(broken) is None
