"""Retention: recovered renewals in the ledger (through the emulator), monthly cohorts,
lifetime value, saves and pauses, and how the dashboard shows them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from support.extensions import db
from support.models import Payment, StatsSnapshot, SupporterChange, utcnow
from support.stats import retention
from support.stats import snapshot as stats_cache
from tests import factories
from tests.factories import signed_in
from tests.stripe_history import apply_due, deliver, give, oldest_first, post_event

NOW = datetime(2026, 12, 15, 12, tzinfo=UTC)


def day(year: int, month: int, dom: int) -> datetime:
    return datetime(year, month, dom, 9, tzinfo=UTC)


def renewals() -> list[Payment]:
    return list(
        db.session.scalars(
            sa.select(Payment).where(Payment.kind == "subscription").order_by(Payment.id)
        )
    )


def test_a_renewal_paid_after_a_failure_is_recovered(client, emulator):
    _, sub_id, _ = give(client, emulator)
    emulator.renew(sub_id)
    emulator.fail_renewal(sub_id)
    for event in oldest_first(emulator):
        deliver(client, event)
    assert [p.status for p in renewals()] == ["paid", "paid", "failed"]
    assert not any(p.recovered for p in renewals())
    seen = {e["id"] for e in emulator.events()}
    emulator.recover(sub_id)
    for event in oldest_first(emulator):
        if event["id"] not in seen:
            deliver(client, event)
    first, renewed, recovered = renewals()
    assert (first.recovered, renewed.recovered, recovered.recovered) == (False, False, True)
    assert recovered.status == "paid"
    found = retention.recovered(utcnow() - timedelta(days=1))
    assert found == {"usd": {"payments": 1, "amount": 500}}


def test_recovered_whatever_order_and_however_often_events_arrive(client, emulator):
    _, sub_id, _ = give(client, emulator)
    emulator.fail_renewal(sub_id)
    emulator.recover(sub_id)
    for event in reversed(oldest_first(emulator)):
        post_event(client, event)
        post_event(client, event)
    apply_due()
    latest = emulator.get(sub_id)["latest_invoice"]
    assert {p.stripe_id: p.recovered for p in renewals()} == {
        p.stripe_id: p.stripe_id == latest for p in renewals()
    }
    assert len(renewals()) == 2
    assert retention.recovered(utcnow() - timedelta(days=1))["usd"]["payments"] == 1


def cohort_ledger() -> None:
    """January 2026: four started (one still giving, three cancelled at different times)
    and one never paid; November 2026: two started, one cancelled in November."""
    started = day(2026, 1, 10)
    for canceled in (None, day(2026, 1, 20), day(2026, 2, 15), datetime(2026, 7, 1, tzinfo=UTC)):
        status = "active" if canceled is None else "canceled"
        factories.subscription(factories.supporter(), started_at=started, status=status,
                               canceled_at=canceled)  # fmt: skip
    factories.subscription(factories.supporter(), started_at=started, status="incomplete_expired")
    factories.subscription(factories.supporter(), started_at=day(2026, 11, 3))
    factories.subscription(factories.supporter(), started_at=day(2026, 11, 4), status="canceled",
                           canceled_at=day(2026, 11, 30))  # fmt: skip
    db.session.commit()


def test_cohorts(app):
    cohort_ledger()
    table = retention.cohorts(NOW)
    assert len(table) == retention.COHORT_MONTHS
    by_month = {row["month"]: row for row in table}
    assert table[0]["month"] == "2026-12-01" and table[-1]["month"] == "2025-12-01"
    january = by_month["2026-01-01"]
    assert january["started"] == 4
    assert january["kept"] == {"1": 0.75, "2": 0.5, "3": 0.5, "6": 0.5, "12": None}
    november = by_month["2026-11-01"]
    assert november["started"] == 2
    assert november["kept"] == {"1": 0.5, "2": None, "3": None, "6": None, "12": None}
    assert by_month["2026-12-01"] == {
        "month": "2026-12-01",
        "started": 0,
        "kept": {k: None for k in ("1", "2", "3", "6", "12")},
    }
    assert by_month["2025-12-01"]["kept"]["12"] is None  # no one started then


def test_lifetime_value_and_changes(app):
    a, b, c = factories.supporter(), factories.supporter(), factories.supporter()
    factories.payment(a, 500)
    factories.payment(a, 500, refunded_amount=200, status="partially_refunded")
    factories.payment(b, 1000, kind="subscription")
    factories.payment(b, 700, status="failed", paid_at=None)
    factories.payment(b, 900, disputed=True)
    factories.payment(c, 300, currency="eur")
    sub = factories.subscription(a)
    for n, (kind, saved) in enumerate(
        [("pause", True), ("amount", True), ("keep", False), ("pause", False), ("cancel", False)]
    ):
        row = SupporterChange(key=f"c{n}", supporter_id=a.id, subscription_id=sub.id, kind=kind,
                              saved=saved, currency="usd", lang="en")  # fmt: skip
        db.session.add(row)
    db.session.add(SupporterChange(key="old", supporter_id=a.id, subscription_id=sub.id,
                                   kind="pause", currency="usd", lang="en",
                                   created_at=utcnow() - timedelta(days=200)))  # fmt: skip
    db.session.commit()
    assert retention.lifetime_value() == {
        "eur": {"average": 300, "supporters": 1},
        "usd": {"average": (500 + 300 + 1000) // 2, "supporters": 2},
    }
    counts = retention.change_counts(utcnow() - retention.WINDOW)
    assert counts == {"saves": 2, "undone": 1, "pauses": 2}


def test_the_dashboard_shows_the_cohorts_in_both_languages(app, client):
    cohort_ledger()
    signed_in(client)
    page = client.get("/staff/").get_data(as_text=True)
    assert 'id="cohorts"' in page
    this_month = utcnow().strftime("%Y-%m")
    assert f'data-cohort="{this_month}"' in page
    assert "Monthly cohorts" in page and "after 12 months" in page
    arabic = client.get("/staff/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'id="cohorts"' in arabic and "Monthly cohorts" not in arabic


def test_the_snapshot_keeps_retention_and_carries_it_over(app):
    cohort_ledger()
    body = stats_cache.refresh(0)
    first = body["retention"]
    assert first["after"] == [1, 2, 3, 6, 12] and len(first["cohorts"]) == 13
    factories.subscription(factories.supporter(), started_at=utcnow())
    db.session.commit()
    again = stats_cache.refresh(0)["retention"]
    assert again == first  # younger than MAX_AGE: carried over, not recounted
    row = db.session.get(StatsSnapshot, stats_cache.KEY)
    stored = json.loads(row.body)
    stored["retention"]["as_of"] = (utcnow() - retention.MAX_AGE).isoformat()
    row.body = json.dumps(stored)
    db.session.commit()
    later = stats_cache.refresh(0)["retention"]
    assert later["cohorts"][0]["started"] == first["cohorts"][0]["started"] + 1
