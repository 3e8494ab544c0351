"""POST /stripe/webhook: signature, size, storage before applying, duplicates, failures."""

import io
import json
import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from support import create_app, ledger
from support.extensions import db, limiter
from support.models import OutboundEmail, Payment, StripeEvent, Subscription, Supporter
from support.webhooks import inbox
from tests.conftest import base_config
from tests.stripe_history import give, oldest_first, post_event, signature


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


def test_unhandled_type_is_stored_and_ignored(client):
    response = post_event(client, event())
    assert response.status_code == 200
    assert response.get_json()["status"] == "ignored"
    [row] = stored()
    assert (row.type, row.status, row.attempts) == ("product.created", "ignored", 1)
    assert json.loads(row.payload)["data"]["object"]["id"] == "prod_1"


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


def test_same_event_twice_is_applied_once(client, emulator):
    give(client, emulator, frequency="once", amount="7")
    completed = next(e for e in oldest_first(emulator) if e["type"] == "checkout.session.completed")
    first, second = post_event(client, completed), post_event(client, completed)
    assert first.get_json()["status"] == second.get_json()["status"] == "processed"
    [row] = stored()
    assert row.attempts == 1
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(OutboundEmail.id))) == 1


def test_database_error_mid_apply_is_500_then_retry_applies_everything(
    client, emulator, monkeypatch
):
    _, sub_id, _ = give(client, emulator)
    completed = next(e for e in oldest_first(emulator) if e["type"] == "checkout.session.completed")
    real = ledger.complete_checkout

    def broken(*args, **kwargs):
        real(*args, **kwargs)  # the supporter, subscription and mail are written by now ...
        db.session.flush()
        db.session.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))  # ... then this fails

    monkeypatch.setattr(ledger, "complete_checkout", broken)
    response = post_event(client, completed)
    assert response.status_code == 500
    assert response.get_json()["status"] == "failed"
    [row] = stored()
    assert row.status == "failed" and row.attempts == 1 and "no_such_table" in row.last_error
    assert row.next_attempt_at is not None
    for model in (Supporter, Subscription, OutboundEmail):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0

    monkeypatch.setattr(ledger, "complete_checkout", real)
    retry = post_event(client, completed)  # Stripe's retry of the same event
    assert retry.status_code == 200 and retry.get_json()["status"] == "processed"
    assert db.session.scalar(sa.select(Subscription.stripe_id)) == sub_id
    assert db.session.scalar(sa.select(sa.func.count(OutboundEmail.id))) == 1
    assert stored()[0].attempts == 2


def test_stripe_down_while_applying_is_500_and_retried_later(client, emulator):
    give(client, emulator)
    created = next(e for e in oldest_first(emulator) if e["type"] == "invoice.paid")
    emulator.fail_next(status=500, count=10)
    response = post_event(client, created)
    emulator.failures.clear()
    assert response.status_code == 500
    assert stored()[0].status == "failed"
    assert inbox.process_event(created["id"]) == "processed"
    assert db.session.scalar(sa.select(Payment.status)) == "paid"


def test_healthz_reports_last_webhook_and_failures(client, emulator):
    post_event(client, event())
    emulator.fail_next(status=500, count=10)
    give_events = event("customer.updated", **{"object": "customer"})
    give_events["data"]["object"]["id"] = "cus_missing"
    post_event(client, give_events)
    emulator.failures.clear()
    health = client.get("/healthz").get_json()
    assert health["last_webhook_received_at"] is not None
    assert health["failed_events"] == 1


def test_redelivery_racing_the_first_waits_for_it_and_answers_its_outcome(app, client):
    """A delivery of an event another worker is applying right now waits for that
    worker (rather than answering 200 for a row whose commit may not be flushed yet)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer")
    racing = event()
    inbox.store_event(racing, json.dumps(racing).encode())
    with db.engine.connect() as worker:
        worker.execute(
            sa.text("SELECT 1 FROM stripe_event WHERE id = :id FOR UPDATE"), {"id": racing["id"]}
        )
        answers = []

        def deliver_again() -> None:
            answers.append(post_event(app.test_client(), racing))

        thread = threading.Thread(target=deliver_again)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and not answers
        worker.execute(
            sa.text("UPDATE stripe_event SET status = 'ignored', attempts = 1 WHERE id = :id"),
            {"id": racing["id"]},
        )
        worker.commit()
    thread.join(10)
    assert answers[0].status_code == 200
    assert answers[0].get_json()["status"] == "ignored"
    assert stored()[0].attempts == 1  # applied once, by the worker


def test_sqlite_webhook_waits_for_the_write_lock_instead_of_failing(client):
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
    assert response.status_code == 200 and response.get_json()["status"] == "ignored"
    assert time.monotonic() - started >= 0.9
