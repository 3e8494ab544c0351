"""`flask stripe process-events | reconcile | setup-webhook`, and replaying events."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.models import OutboundEmail, Payment, StripeEvent, Subscription, utcnow
from support.webhooks import applying, inbox
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


def events_by_status():
    db.session.expire_all()
    return dict(
        db.session.execute(
            sa.select(StripeEvent.status, sa.func.count()).group_by(StripeEvent.status)
        ).all()
    )


def fail_everything(client, emulator):
    """Deliver a whole gift while Stripe is down: every applicable event fails."""
    give(client, emulator)
    emulator.fail_next(status=500, count=1000)
    for event in oldest_first(emulator):
        post_event(client, event)
    apply_due()
    emulator.failures.clear()


def test_process_events_waits_for_the_backoff_then_applies(client, emulator, runner):
    fail_everything(client, emulator)
    assert events_by_status()["failed"] == 3
    result = runner.invoke(args=["stripe", "process-events"])
    assert result.output.strip() == "No events due."
    db.session.execute(sa.update(StripeEvent).values(next_attempt_at=utcnow() - timedelta(1)))
    db.session.commit()
    result = runner.invoke(args=["stripe", "process-events"])
    assert result.exit_code == 0, result.output
    assert "processed 3" in result.output
    assert actual_ledger() == expected_ledger(emulator)
    assert db.session.scalar(sa.select(sa.func.count(OutboundEmail.id))) == 1


def test_process_events_gives_up_after_max_attempts(client, emulator, runner):
    fail_everything(client, emulator)
    db.session.execute(sa.update(StripeEvent).values(next_attempt_at=None))
    db.session.commit()
    result = runner.invoke(args=["stripe", "process-events", "--max-attempts", "1"])
    assert result.output.strip() == "No events due."
    assert events_by_status()["failed"] == 3


def test_failed_again_exits_non_zero_and_backs_off(client, emulator, runner):
    fail_everything(client, emulator)
    db.session.execute(sa.update(StripeEvent).values(next_attempt_at=None))
    db.session.commit()
    emulator.fail_next(status=500, count=1000)
    result = runner.invoke(args=["stripe", "process-events"])
    emulator.failures.clear()
    assert result.exit_code == 1 and "failed 3" in result.output
    waits = db.session.scalars(
        sa.select(StripeEvent.next_attempt_at).where(StripeEvent.status == "failed")
    ).all()
    # Stripe's trouble: the second wait is 30 s (15 s, doubling).
    assert all(
        utcnow() + timedelta(seconds=20) < w < utcnow() + timedelta(seconds=31) for w in waits
    )


def test_replay_reapplies_a_processed_event_safely(client, emulator):
    give(client, emulator)
    for event in oldest_first(emulator):
        post_event(client, event)
    apply_due()
    completed = next(e for e in oldest_first(emulator) if e["type"] == "checkout.session.completed")
    db.session.execute(sa.delete(Payment))
    db.session.execute(sa.update(Subscription).values(status="garbled"))
    db.session.commit()
    assert applying.apply_event(completed["id"]) == "processed"  # done: left alone
    assert db.session.scalar(sa.select(Subscription.status)) == "garbled"
    assert applying.apply_event(completed["id"], again=True) == "processed"
    assert db.session.scalar(sa.select(Subscription.status)) == "active"
    assert db.session.scalar(sa.select(sa.func.count(OutboundEmail.id))) == 1
    with pytest.raises(inbox.UnknownEvent):
        applying.apply_event("evt_unknown")


def test_reconcile_repairs_what_webhooks_missed(client, emulator, runner):
    _, sub_id, charge = give(client, emulator)
    # the first invoice's event arrived; nothing after it did
    deliver(client, next(e for e in oldest_first(emulator) if e["type"] == "invoice.paid"))
    emulator.renew(sub_id)
    emulator.refund(charge, amount=100)
    emulator.cancel(sub_id, at_period_end=True)
    give(client, emulator, frequency="year", amount="50")
    assert actual_ledger() != expected_ledger(emulator)

    result = runner.invoke(args=["stripe", "reconcile"])
    assert result.exit_code == 0, result.output
    assert f"repaired {sub_id}: cancel_at_period_end False → True" in result.output
    assert "payment missing" in result.output
    assert f"repaired {charge}: refunded 0 → 100" in result.output
    assert "Checked 2 subscriptions, 3 invoices and 3 charges" in result.output
    assert actual_ledger()["subscriptions"] == expected_ledger(emulator)["subscriptions"]
    assert actual_ledger()["payments"] == expected_ledger(emulator)["payments"]

    again = runner.invoke(args=["stripe", "reconcile", "--since", "2020-01-01"])
    assert "repaired 0." in again.output


def test_reconcile_when_stripe_is_down(runner, emulator):
    emulator.fail_next(status=500, count=10)
    result = runner.invoke(args=["stripe", "reconcile"])
    emulator.failures.clear()
    assert result.exit_code == 1 and "Stripe did not answer" in result.output


@pytest.mark.one_database
def test_setup_webhook_prints_the_secret(runner, emulator):
    result = runner.invoke(
        args=["stripe", "setup-webhook", "https://support.example.org/stripe/webhook"]
    )
    assert result.exit_code == 0, result.output
    assert "STRIPE_WEBHOOK_SECRET=whsec_" in result.output
    [endpoint] = emulator.state()["objects"]["webhook_endpoint"]
    assert endpoint["api_version"] == "2026-10-28.endive"
    assert "invoice.paid" in endpoint["enabled_events"]
    assert "charge.dispute.created" in endpoint["enabled_events"]


@pytest.mark.one_database
def test_setup_webhook_refuses_a_non_url(runner):
    result = runner.invoke(args=["stripe", "setup-webhook", "support.example.org"])
    assert result.exit_code == 2 and "http(s) URL" in result.output


def test_two_workers_never_apply_one_event_twice(app, client, emulator):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED workers are meaningful on PostgreSQL only")
    for _ in range(3):
        give(client, emulator)
    emulator.fail_next(status=500, count=1000)
    for event in oldest_first(emulator):
        post_event(client, event)
    apply_due()
    emulator.failures.clear()
    due_now()
    totals = []

    def worker():
        with app.app_context():
            totals.append(applying.drain())
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(t.get("processed", 0) for t in totals) == 9
    attempts = db.session.scalars(
        sa.select(StripeEvent.attempts).where(StripeEvent.status == "processed")
    ).all()
    assert attempts == [2] * 9  # the failed attempt, then exactly one worker
    assert actual_ledger() == expected_ledger(emulator)
