"""POST /stripe/webhook stores; the worker applies: signature, size, duplicates, failures."""

import io
import json
import sqlite3
import threading
import time
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa

from support import create_app, wakeup
from support.extensions import db, limiter
from support.ledger import checkouts
from support.mail.queue import queue_mail
from support.models import (
    OutboundEmail,
    Payment,
    StripeEvent,
    Subscription,
    Supporter,
    WorkerHeartbeat,
    utcnow,
)
from support.webhooks import applying
from tests.conftest import base_config
from tests.stripe_history import (
    apply_due,
    deliver,
    due_now,
    give,
    oldest_first,
    post_event,
    signature,
)


def stored():
    db.session.expire_all()
    return db.session.scalars(sa.select(StripeEvent)).all()


def event(type_="product.created", livemode=False, **obj):
    return {
        "id": f"evt_test_{time.time_ns()}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": livemode,
        "type": type_,
        "data": {"object": {"id": "prod_1", "object": "product", **obj}},
    }


def test_a_delivery_is_stored_pending_and_applied_by_the_worker(client):
    response = post_event(client, event())
    assert response.status_code == 200
    assert response.get_json()["status"] == "pending"
    [row] = stored()
    assert (row.type, row.status, row.attempts) == ("product.created", "pending", 0)
    assert json.loads(row.payload)["data"]["object"]["id"] == "prod_1"
    assert apply_due() == {"ignored": 1}
    [row] = stored()
    assert (row.status, row.attempts) == ("ignored", 1)
    assert "not handled" in row.last_error


def test_a_delivery_makes_no_stripe_call_no_ledger_write_and_no_mail(client, emulator):
    give(client, emulator)
    # Any Stripe call would use up one of these failures.
    emulator.fail_next(status=500, count=100)
    for delivered in oldest_first(emulator):
        response = post_event(client, delivered)
        assert response.status_code == 200 and response.get_json()["status"] == "pending"
    assert len(emulator.failures) == 100
    emulator.failures.clear()
    for model in (Supporter, Subscription, Payment, OutboundEmail):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
    assert {row.status for row in stored()} == {"pending"}


def test_deliveries_neither_read_nor_set_cookies(client):
    client.set_cookie("session", "not-a-session")
    response = post_event(client, event())
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_deliveries_are_never_rate_limited(app, database, emulator):
    settings = {**base_config(database, emulator.url), "RATELIMIT_APPLICATION": "2/minute"}
    strict = create_app(settings)
    try:
        with strict.app_context():
            client = strict.test_client()
            assert [post_event(client, event()).status_code for _ in range(4)] == [200] * 4
            assert [client.get("/en/").status_code for _ in range(3)] == [200, 200, 429]
            db.engine.dispose()
    finally:
        limiter.limit_manager.set_application_limits([])  # the limiter object is shared


def test_wrong_livemode_is_ignored(client):
    response = post_event(client, event("customer.updated", livemode=True))
    assert response.status_code == 200
    apply_due()
    [row] = stored()
    assert row.status == "ignored" and "livemode" in row.last_error


@pytest.mark.parametrize(
    "header",
    [None, "", "garbage", "t=1,v1=deadbeef"],
)
def test_missing_or_wrong_signature_is_400_and_nothing_stored(client, header):
    headers = {} if header is None else {"Stripe-Signature": header}
    response = client.post("/stripe/webhook", data=json.dumps(event()), headers=headers)
    assert response.status_code == 400
    assert "Stripe-Signature" in response.get_json()["error"]["message"]
    assert stored() == []


def test_signature_with_another_secret_is_refused(client):
    assert post_event(client, event(), secret="whsec_other").status_code == 400
    assert stored() == []


def test_stale_signature_is_refused(client):
    response = post_event(client, event(), at=int(time.time()) - 301)
    assert response.status_code == 400
    assert stored() == []
    assert post_event(client, event(), at=int(time.time()) - 200).status_code == 200


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"id": "evt_1"}', b'{"id": 5, "type": "x"}', b"\xff\xfe"],
)
def test_signed_body_that_is_not_an_event_is_400(client, body):
    headers = {"Stripe-Signature": signature(body) if body != b"\xff\xfe" else "t=1,v1=00"}
    response = client.post("/stripe/webhook", data=body, headers=headers)
    assert response.status_code == 400
    assert response.is_json
    assert stored() == []


def test_oversize_body_is_413_json(client):
    body = b"{" + b" " * (1024 * 1024) + b"}"
    response = client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": "x"})
    assert response.status_code == 413
    assert response.get_json()["error"]["status"] == 413
    assert stored() == []


def test_oversize_chunked_body_without_length_is_413(client):
    body = io.BytesIO(b" " * (1024 * 1024 + 10))
    response = client.post(
        "/stripe/webhook",
        input_stream=body,
        headers={"Stripe-Signature": "x", "Transfer-Encoding": "chunked"},
        # What a WSGI server sets for a chunked body it has de-chunked.
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert stored() == []


def test_same_event_twice_is_stored_and_applied_once(client, emulator):
    give(client, emulator, frequency="once", amount="7")
    completed = next(e for e in oldest_first(emulator) if e["type"] == "checkout.session.completed")
    first, second = post_event(client, completed), post_event(client, completed)
    assert first.get_json() == second.get_json() == {"id": completed["id"], "status": "pending"}
    apply_due()
    third = post_event(client, completed)
    assert third.get_json()["status"] == "processed"
    assert apply_due() == {}
    [row] = stored()
    assert row.attempts == 1
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(OutboundEmail.id))) == 1


def test_a_failure_to_store_is_500_and_the_redelivery_is_stored(client):
    delivered = event()
    db.session.execute(sa.text("ALTER TABLE stripe_event RENAME TO stripe_event_away"))
    db.session.commit()
    try:
        response = post_event(client, delivered)
    finally:
        db.session.rollback()
        db.session.execute(sa.text("ALTER TABLE stripe_event_away RENAME TO stripe_event"))
        db.session.commit()
    assert response.status_code == 500
    assert response.get_json()["error"]["status"] == 500
    assert post_event(client, delivered).status_code == 200
    assert [row.id for row in stored()] == [delivered["id"]]


def test_database_error_mid_apply_rolls_back_then_the_retry_applies_everything(
    client, emulator, monkeypatch
):
    _, sub_id, _ = give(client, emulator)
    completed = next(e for e in oldest_first(emulator) if e["type"] == "checkout.session.completed")
    real = checkouts.complete_checkout

    def broken(*args, **kwargs):
        real(*args, **kwargs)  # the supporter, subscription and mail are written by now ...
        db.session.flush()
        db.session.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))  # ... then this fails

    monkeypatch.setattr(checkouts, "complete_checkout", broken)
    assert deliver(client, completed) == "failed"
    [row] = stored()
    assert row.status == "failed" and row.attempts == 1 and "no_such_table" in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=50)  # not Stripe's trouble: 1 min
    for model in (Supporter, Subscription, OutboundEmail):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0

    monkeypatch.setattr(checkouts, "complete_checkout", real)
    assert apply_due() == {}  # waiting for its next attempt
    due_now()
    assert apply_due() == {"processed": 1}
    assert db.session.scalar(sa.select(Subscription.stripe_id)) == sub_id
    assert db.session.scalar(sa.select(sa.func.count(OutboundEmail.id))) == 1
    assert stored()[0].attempts == 2


def test_stripe_down_while_applying_waits_briefly_and_is_retried(client, emulator):
    give(client, emulator)
    paid = next(e for e in oldest_first(emulator) if e["type"] == "invoice.paid")
    emulator.fail_next(status=500, count=10)
    assert deliver(client, paid) == "failed"
    emulator.failures.clear()
    [row] = stored()
    assert "APIError" in row.last_error
    assert row.next_attempt_at < utcnow() + timedelta(seconds=20)  # Stripe's trouble: 15 s
    assert applying.apply_event(paid["id"]) == "processed"
    assert db.session.scalar(sa.select(Payment.status)) == "paid"


def test_healthz_reports_the_queue_and_the_worker(client, emulator):
    health = client.get("/healthz").get_json()
    assert health["worker_last_seen_at"] is None
    assert health["oldest_pending_age_seconds"] is None
    post_event(client, event())
    customer = event("customer.updated", **{"object": "customer"})
    post_event(client, customer)
    health = client.get("/healthz").get_json()
    assert health["last_webhook_received_at"] is not None
    assert health["pending_events"] == 2
    assert 0 <= health["oldest_pending_age_seconds"] < 60
    db.session.execute(sa.update(StripeEvent).values(received_at=utcnow() - timedelta(minutes=3)))
    db.session.add(WorkerHeartbeat(name="host:1", threads=2, started_at=utcnow(), seen_at=utcnow()))
    db.session.commit()
    health = client.get("/healthz").get_json()
    assert health["oldest_pending_age_seconds"] >= 180
    assert health["worker_last_seen_at"] is not None
    emulator.fail_next(status=500, count=10)
    apply_due()
    emulator.failures.clear()
    health = client.get("/healthz").get_json()
    assert (health["pending_events"], health["failed_events"]) == (0, 0)  # prod_1: not handled
    assert health["oldest_pending_age_seconds"] is None


def test_sqlite_delivery_waits_for_the_write_lock_instead_of_failing(client):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    other = sqlite3.connect(db.engine.url.database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock for a second
    threading.Timer(1.0, other.commit).start()
    started = time.monotonic()
    response = post_event(client, event())
    other.close()
    assert response.status_code == 200 and response.get_json()["status"] == "pending"
    assert time.monotonic() - started >= 0.9


def test_storing_an_event_or_a_mail_wakes_listening_workers(client):
    """On PostgreSQL a worker hears of new work at once instead of at its next look."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; on SQLite the worker polls")
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f"LISTEN {wakeup.CHANNEL}")
        assert post_event(client, event()).status_code == 200
        heard = list(listener.notifies(timeout=5, stop_after=1))
        assert [note.channel for note in heard] == [wakeup.CHANNEL]
        queue_mail("manage:test", "manage_link", None, "en")
        db.session.commit()
        assert len(list(listener.notifies(timeout=5, stop_after=1))) == 1
