"""The ledger's version-guarded writes: fresher rows win, versions come from the
database's clock, and applying an event takes its customer's lock once."""

import sqlalchemy as sa

from support.extensions import db
from support.ledger import locks, payments, subscriptions, supporters
from support.ledger.versions import read_version
from support.models import Payment, Subscription, Supporter
from support.webhooks.handlers import HANDLERS
from tests.stripe_history import deliver, give, oldest_first


def test_versions_come_from_the_database_and_grow(app):
    first = read_version()
    second = read_version()
    assert second >= first
    if db.engine.dialect.name == "postgresql":
        now = db.session.execute(
            sa.text("SELECT CAST(EXTRACT(EPOCH FROM now()) * 1000000 AS BIGINT)")
        ).scalar()
        db.session.rollback()
        assert abs(now - first) < 60_000_000
    assert not db.session().in_transaction()  # no transaction stays open across a Stripe read


def test_subscription_upsert_keeps_fresher_rows(client, emulator):
    _, sub_id, _ = give(client, emulator)
    for event in oldest_first(emulator):
        deliver(client, event)
    sub = emulator.get(sub_id)
    stored = db.session.scalar(sa.select(Subscription))
    supporter = supporters.find_supporter(sub["customer"])

    newer = subscriptions.apply_subscription({**sub, "status": "past_due"}, supporter, 2**62)
    assert newer.status == "past_due" and newer.supporter_id == stored.supporter_id
    older = subscriptions.apply_subscription({**sub, "status": "canceled"}, supporter, 1)
    assert older.status == "past_due"
    db.session.commit()
    assert db.session.scalar(sa.select(Subscription.status)) == "past_due"


def test_payment_upsert_keeps_fresher_rows(client, emulator):
    give(client, emulator, frequency="once")
    for event in oldest_first(emulator):
        deliver(client, event)
    row = db.session.scalar(sa.select(Payment))
    intent = emulator.get(row.stripe_id)
    intent["latest_charge"] = emulator.get(intent["latest_charge"])
    failed = {**intent, "status": "canceled"}
    assert payments.apply_one_time(failed, None, None, 1).status == "paid"
    assert payments.apply_one_time(failed, None, None, 2**62).status == "failed"
    db.session.rollback()
    assert db.session.scalar(sa.select(Payment.status)) == "paid"


def test_customer_details_only_over_an_older_read(client, emulator):
    give(client, emulator)
    for event in oldest_first(emulator):
        deliver(client, event)
    supporter = db.session.scalar(sa.select(Supporter))
    customer = emulator.get(supporter.stripe_customer_id)
    fresh = supporters.apply_customer({**customer, "email": "Fresh@Example.org"}, 2**61)
    assert fresh.email == "fresh@example.org"
    stale = supporters.apply_customer({**customer, "email": "stale@example.org"}, 2**60)
    assert stale.email == "fresh@example.org"
    db.session.rollback()


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
            deliver(client, event)
            locks_taken = [s for s in statements if "pg_advisory_xact_lock" in s]
            if engine.dialect.name == "postgresql":
                expected = 1 if event["type"] in HANDLERS else 0
                assert len(locks_taken) == expected, (event["type"], locks_taken)
            else:
                assert locks_taken == []
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_lock_keys_follow_the_objects():
    assert locks.customer_key({"object": "subscription", "id": "sub", "customer": "c"}) == "c"
    assert locks.customer_key({"object": "customer", "id": "cus"}) == "cus"
    charge = {"object": "charge", "id": "ch", "customer": None, "payment_intent": "pi"}
    assert locks.customer_key(charge) == "pi"
    session = {"object": "checkout.session", "id": "cs", "customer": None}
    assert locks.customer_key(session) == "cs"
