"""Staff see what supporters changed on their account page: the supporter page lists
each change (reason, words, save, pause, whether Stripe applied it), the dashboard
counts cancellations by reason and the saves; erasure drops the supporter's words."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from support.extensions import db
from support.models import Subscription, SupporterChange, utcnow
from support.privacy import erasure
from support.stats import cancellations
from tests.factories import ago, signed_in, subscription, supporter


def change(sub: Subscription, kind: str, n: int, **values) -> SupporterChange:
    row = SupporterChange(
        key=f"k{n}",
        attempt=0,
        supporter_id=sub.supporter_id,
        subscription_id=sub.id,
        kind=kind,
        currency=sub.currency,
        old_amount=sub.amount,
        old_interval=sub.interval,
        lang="ar",
        asked_version=0,
        created_at=values.pop("created_at", utcnow()),
        **values,
    )
    db.session.add(row)
    return row


def seed():
    amal = supporter("amal@example.org", "Amal Haddad", lang="ar")
    sub = subscription(amal, 500, "usd")
    ben = supporter("ben@example.org", "Ben Jones")
    other = subscription(ben, 1000, "usd")
    change(sub, "pause", 1, offer="pause", saved=True, paused_until=utcnow() + timedelta(days=30),
           applied_at=utcnow())  # fmt: skip
    change(sub, "cancel", 2, reason="too_expensive", comment="Money is tight, Amal", offer="pause")
    change(sub, "amount", 3, new_amount=300, new_interval="month", failed_at=utcnow())
    change(other, "cancel", 4, reason="too_expensive", applied_at=utcnow())
    change(other, "cancel", 5, reason="unused", created_at=ago(200))  # outside the window
    change(other, "keep", 6, applied_at=utcnow())
    db.session.commit()
    return amal, sub


def test_the_supporter_page_shows_reasons_saves_and_pauses(client):
    amal, _ = seed()
    signed_in(client)
    page = client.get(f"/staff/supporters/{amal.id}")
    text = " ".join(page.get_data(as_text=True).split())
    assert page.status_code == 200
    assert "Changes made by the supporter" in text
    assert "paused: until" in text and "pause: taken (a save)" in text
    assert "cannot afford it" in text and "Money is tight, Amal" in text
    assert "pause: declined" in text and "on its way" in text
    assert "amount changed: $5 monthly → $3 monthly" in text
    assert "refused or failed" in text


def test_the_dashboard_counts_cancellations_by_reason_and_saves(client):
    seed()
    found = cancellations.breakdown()
    assert found.reasons == [("too_expensive", 2)]  # the one 200 days ago is outside
    assert found.saves == [("pause", 1)] and (found.cancellations, found.saved) == (2, 1)
    signed_in(client)
    page = client.get("/staff/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Why supporters cancel, last 90 days" in html
    assert 'data-reason="too_expensive"' in html and 'data-saves="pause"' in html


def test_erasure_drops_the_words_given_and_keeps_the_reasons(app):
    amal, sub = seed()
    db.session.execute(
        sa.update(Subscription).where(Subscription.id == sub.id).values(cancel_comment="Amal here")
    )
    erasure.erase_supporter(amal)
    db.session.commit()
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(SupporterChange).where(SupporterChange.supporter_id == amal.id)
    ).all()
    assert {r.comment for r in rows} == {None}
    assert "too_expensive" in {r.reason for r in rows}
    assert db.session.get(Subscription, sub.id).cancel_comment is None


def test_the_breakdown_is_served_from_the_dashboards_snapshot(app):
    from support.stats import snapshot

    seed()
    body = snapshot.refresh(app.config["SUPPORT_GOAL"])
    assert cancellations.from_json(body["cancellations"]).reasons == [("too_expensive", 2)]
    kept = cancellations.from_json(snapshot.figures(app.config["SUPPORT_GOAL"])["cancellations"])
    assert kept.reasons == [("too_expensive", 2)] and kept.saves == [("pause", 1)]
