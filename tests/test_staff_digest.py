"""The staff daily digest: the opt-in switch, yesterday's figures, one mail per opted-in
account and day, sent by the worker's pass."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from support.alerts import digest
from support.extensions import db
from support.models import OutboundEmail, StaffUser, SupporterChange, utcnow
from support.webhooks.worker import Worker
from tests import factories
from tests.factories import csrf, signed_in
from tests.stripe_history import apply_due

NOW = utcnow()
YESTERDAY = digest.last_whole_day(NOW, "UTC")


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


_keys = iter(range(1, 1000))


def change(sub, kind: str, when: datetime, **values) -> None:
    db.session.add(
        SupporterChange(key=f"k{next(_keys)}", supporter_id=sub.supporter_id,
                        subscription_id=sub.id, kind=kind, currency=sub.currency, lang="en",
                        created_at=when, **values)
    )  # fmt: skip


def yesterdays_ledger() -> None:
    """Two new supporters, two cancellations (one with a reason), a failed and a recovered
    renewal, a one-time gift, a pause; and the day before and today, which do not count."""
    noon, before, today = at(YESTERDAY, 12), at(YESTERDAY, 0) - timedelta(seconds=1), NOW
    new = factories.subscription(factories.supporter(), 1000, started_at=noon)
    gone = factories.subscription(factories.supporter(), 500, status="canceled",
                                  canceled_at=noon, cancel_reason="too_expensive")  # fmt: skip
    factories.subscription(factories.supporter(), 300, status="canceled", started_at=noon,
                           canceled_at=noon)  # fmt: skip
    factories.subscription(factories.supporter(), 700, started_at=before)
    factories.subscription(factories.supporter(), 700, status="canceled", canceled_at=before)
    factories.payment(gone.supporter, 500, kind="subscription", status="failed", paid_at=None,
                      created_at=noon)  # fmt: skip
    factories.payment(new.supporter, 1200, kind="subscription", recovered=True, paid_at=noon)
    factories.payment(new.supporter, 900, kind="subscription", recovered=True, paid_at=today)
    factories.payment(factories.supporter(), 2500, paid_at=noon)
    change(new, "pause", noon)
    change(new, "pause", noon, failed_at=noon)  # refused by Stripe: not a pause
    change(new, "pause", before)
    db.session.commit()


def staff_with_digest(email: str, on: bool, lang: str = "en", status: str = "active") -> StaffUser:
    user = factories.staff(email)
    user.daily_digest, user.digest_lang, user.status = on, lang, status
    db.session.commit()
    return user


def test_the_days_figures(app):
    yesterdays_ledger()
    figures = digest.day_figures(YESTERDAY, "UTC")
    assert figures["new"] == 2
    assert figures["one_time"] == 1
    assert figures["cancelled"] == [["", 1], ["too_expensive", 1]]
    assert figures["cancelled_total"] == 2
    assert figures["net"] == 0
    assert figures["failed"] == 1
    assert (figures["recovered"], figures["recovered_money"]) == (1, {"usd": 1200})
    assert figures["paused"] == 1
    assert figures["mrr"] == {"usd": 1000 + 700}


def test_a_day_in_the_newsrooms_time_zone():
    start, end = digest.day_bounds(date(2026, 7, 1), "Asia/Beirut")  # UTC+3 in summer
    assert start == datetime(2026, 6, 30, 21, tzinfo=UTC)
    assert end == datetime(2026, 7, 1, 21, tzinfo=UTC)
    assert digest.last_whole_day(datetime(2026, 7, 1, 22, tzinfo=UTC), "Asia/Beirut") == date(
        2026, 7, 1
    )


def test_only_opted_in_active_staff_get_it_once_a_day(app, smtp_server):
    yesterdays_ledger()
    alice = staff_with_digest("alice@example.org", True)
    staff_with_digest("bob@example.org", False)
    staff_with_digest("carol@example.org", True, status="deactivated")
    dana = staff_with_digest("dana@example.org", True, "ar")
    assert digest.queue_due(NOW) == 2
    assert digest.queue_due(NOW) == 0
    rows = db.session.scalars(sa.select(OutboundEmail).order_by(OutboundEmail.id)).all()
    assert [(r.staff_user_id, r.kind, r.lang) for r in rows] == [
        (alice.id, "staff_digest", "en"),
        (dana.id, "staff_digest", "ar"),
    ]
    assert rows[0].key == f"staff_digest:{alice.id}:{YESTERDAY.isoformat()}"

    apply_due()  # the worker's pass sends them
    apply_due()  # and a second pass sends nothing more
    Worker(app, threads=1)._digest()
    mails = smtp_server.received()
    assert sorted(m["To"] for m in mails) == ["alice@example.org", "dana@example.org"]
    english = next(m for m in mails if m["To"] == "alice@example.org")
    text = english.get_body(("plain",)).get_content()
    for line in (
        "New recurring supporters: 2",
        "One-time gifts: 1",
        "Cancellations: 2",
        "Failed payments: 1",
        "Recovered payments: 1",
        "Recovered revenue: $12",
        "Pauses: 1",
        "Net change: 0",
        "Monthly recurring revenue now: $17",
        "- cannot afford it: 1",
        "- no reason given: 1",
        "/staff/account/digest",
    ):
        assert line in text, line
    assert "a whole day in UTC" in text
    arabic = next(m for m in mails if m["To"] == "dana@example.org")
    assert arabic["Content-Language"] == "ar"
    assert "Net change" not in arabic.get_body(("plain",)).get_content()
    assert len(db.session.scalars(sa.select(OutboundEmail)).all()) == 2


def test_opting_out_before_it_is_sent_skips_it(app, smtp_server):
    alice = staff_with_digest("alice@example.org", True)
    assert digest.queue_due(NOW) == 1
    alice.daily_digest = False
    db.session.commit()
    apply_due()
    assert smtp_server.received() == []
    assert db.session.scalar(sa.select(OutboundEmail.status)) == "skipped"


def test_the_next_day_is_a_new_digest(app):
    staff_with_digest("alice@example.org", True)
    assert digest.queue_due(NOW) == 1
    assert digest.queue_due(NOW + timedelta(days=1)) == 1
    keys = db.session.scalars(sa.select(OutboundEmail.key)).all()
    assert len(set(keys)) == 2
    figures = json.loads(db.session.scalars(sa.select(OutboundEmail.context)).first())
    assert figures["day"] == YESTERDAY.isoformat()


def test_the_switch_on_the_account_page(app, client):
    signed_in(client)
    page = client.get("/staff/account/digest")
    assert page.status_code == 200 and 'data-digest="off"' in page.get_data(as_text=True)
    token = csrf(client, "/staff/account/digest")
    response = client.post(
        "/staff/account/digest",
        data={"daily_digest": "y", "csrf_token": token},
        headers={"Accept-Language": "ar"},
    )
    assert response.status_code == 303
    user = db.session.scalar(sa.select(StaffUser))
    assert (user.daily_digest, user.digest_lang) == (True, "ar")
    assert 'data-digest="on"' in client.get("/staff/account/digest").get_data(as_text=True)
    client.post("/staff/account/digest", data={"csrf_token": token})
    db.session.expire_all()
    assert user.daily_digest is False


def test_the_switch_needs_a_form_token_and_a_sign_in(app, client):
    assert client.get("/staff/account/digest").status_code == 302
    signed_in(client)
    assert client.post("/staff/account/digest", data={"daily_digest": "y"}).status_code == 400
    assert db.session.scalar(sa.select(StaffUser.daily_digest)) is False


@pytest.mark.one_database
def test_a_wrong_time_zone_is_refused_at_start_up():
    from support.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="STAFF_DIGEST_TIMEZONE"):
        load_config({"STAFF_DIGEST_TIMEZONE": "Mars/Olympus"})
