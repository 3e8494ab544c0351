"""Dashboard figures against hand-computed expectations (support/stats.py, stats_history.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from support.extensions import db
from support.models import StatsMonth
from support.stats import figures as stats
from support.stats import history as stats_history
from tests.factories import NOW, ago, payment, signed_in, subscription, supporter


@pytest.fixture
def ledger(app):
    """A small ledger whose figures are worked out by hand in the tests below."""
    a, b, c, d = supporter(), supporter(), supporter(), supporter()
    subscription(a, 500, "usd")  # 500 a month
    subscription(b, 10000, "usd", interval="year")  # 833.33 a month
    subscription(c, 300, "eur", started_at=ago(10))  # new
    subscription(d, 5000, "eur", interval="year", started_at=ago(400))  # 416.67 a month
    e = supporter()
    subscription(e, 1000, "usd", status="canceled", started_at=ago(300), canceled_at=ago(10))
    f = supporter()
    subscription(f, 700, "usd", status="past_due", started_at=ago(50))
    g = supporter()  # two gifts, one person
    subscription(g, 200, "usd")
    subscription(g, 300, "usd")
    h = supporter()  # canceled and came back: new, not churned
    subscription(h, 600, "usd", status="canceled", started_at=ago(90), canceled_at=ago(6))
    subscription(h, 400, "usd", started_at=ago(5))
    i = supporter()
    subscription(i, 900, "usd", status="incomplete", started_at=ago(3))
    j = supporter()
    subscription(j, 800, "usd", status="canceled", started_at=ago(200), canceled_at=ago(40))

    once = supporter()
    payment(once, 2500, "usd")
    payment(once, 1000, "usd", status="refunded", refunded_amount=1000)
    payment(once, 3000, "usd", status="partially_refunded", refunded_amount=1000)
    payment(once, 5000, "eur", paid_at=ago(45))  # outside the window
    payment(a, 500, "usd", kind="subscription", paid_at=ago(2))  # recurring, not one-time
    payment(once, 2000, "eur", paid_at=ago(1), disputed=True)
    payment(once, 1500, "eur", status="failed", paid_at=None)
    db.session.commit()


def test_overview_matches_hand_computed_figures(ledger):
    figures = stats.overview(goal=10, now=NOW)
    # a, b, c, d, g, h: g counts once although it has two active subscriptions.
    assert figures.active_supporters == 6
    # usd: (500·12 + 10000 + 200·12 + 300·12 + 400·12) / 12 = 26800 / 12 = 2233.33 → 2233
    # eur: (300·12 + 5000) / 12 = 8600 / 12 = 716.67 → 717
    assert figures.mrr == {"eur": 717, "usd": 2233}
    assert figures.active_subscriptions == {"eur": 2, "usd": 5}
    # usd 26800 / 60 = 446.67 → 447; eur 8600 / 24 = 358.33 → 358
    assert figures.average_monthly_amount == {"eur": 358, "usd": 447}
    assert figures.new_last_30_days == 2  # c and h; the incomplete one never started
    assert figures.churned_last_30_days == 1  # e; h came back, j left 40 days ago
    assert figures.churn_rate == pytest.approx(1 / (6 - 2 + 1))
    assert figures.past_due == 1
    # 2500 + (3000 − 1000); refunded, disputed, failed, recurring and older ones left out.
    assert figures.one_time_revenue_last_30_days == {"usd": 4500}
    assert figures.goal_percent == 60


def test_mrr_rounds_half_up_once_per_currency():
    assert stats.divide_x12(6) == 1  # 0.5 → 1
    assert stats.divide_x12(5) == 0
    assert stats.divide_x12(18) == 2  # 1.5 → 2
    assert stats.divide_x12(1000 * 12 + 10000) == 1833  # 1000 + 833.33
    assert stats.divide_x12(26800, 5) == 447


def test_empty_ledger(app):
    figures = stats.overview(goal=0, now=NOW)
    assert figures.active_supporters == 0 and figures.mrr == {}
    assert figures.churn_rate is None and figures.goal_percent is None


def test_stats_json_has_the_contract_keys(client, ledger):
    signed_in(client, "viewer")
    body = client.get("/staff/api/stats.json").json
    assert body["active_supporters"] == 6
    assert body["mrr"] == {"eur": 717, "usd": 2233}
    assert body["new_last_30_days"] == 2
    assert body["churned_last_30_days"] == 1
    assert len(body["history"]) == 12 and body["history"][-1]["month"] == NOW.strftime("%Y-%m")


def test_dashboard_shows_the_figures_and_accessible_charts(client, ledger):
    signed_in(client, "viewer")
    page = client.get("/staff/").get_data(as_text=True)
    assert "Active supporters" in page and "$22.33" in page and "€7.17" in page
    assert page.count('<svg class="chart"') == 4  # supporters, MRR usd, MRR eur, new vs canceled
    assert page.count("<title id=") == 4
    assert page.count('<table class="data">') == 4


def test_dashboard_in_arabic(client, ledger):
    signed_in(client, "viewer")
    page = client.get("/staff/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'dir="rtl"' in page and "الداعمون النشطون" in page
    # 6 of 1,000 supporters: the goal's plural form and the Arabic percent sign.
    assert "6 من أصل 1,000 داعم (0٪)" in page


def test_dashboard_goal_line_in_english(client, ledger):
    signed_in(client, "viewer")
    page = client.get("/staff/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "6 of 1,000 supporters (0%)" in page


JUNE = datetime(2026, 6, 15, 12, tzinfo=UTC)


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 9, tzinfo=UTC)


@pytest.fixture
def year_of_history(app):
    """Subscriptions over 2024–2026; the charts' window is July 2025 to June 2026."""
    subscription(supporter(), 500, "usd", started_at=at(2025, 3, 10))
    subscription(
        supporter(), 1200, "usd", interval="year", status="canceled",
        started_at=at(2026, 1, 20), canceled_at=at(2026, 4, 5),
    )  # fmt: skip
    subscription(supporter(), 300, "eur", started_at=at(2026, 6, 1))
    subscription(supporter(), 900, "usd", status="incomplete", started_at=at(2026, 5, 3))
    subscription(
        supporter(), 1000, "usd", status="canceled",
        started_at=at(2024, 1, 1), canceled_at=at(2025, 5, 1),
    )  # fmt: skip
    db.session.commit()


def test_history_counts_each_month_end(year_of_history):
    points = stats_history.history(12, now=JUNE)
    assert [p.month for p in points][:2] == [date(2025, 7, 1), date(2025, 8, 1)]
    assert points[-1].month == date(2026, 6, 1)
    assert [p.subscriptions for p in points] == [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 2]
    assert points[5].mrr == {"usd": 500}
    assert points[6].mrr == {"usd": 600}  # + 1200 a year = 100 a month
    assert points[9].mrr == {"usd": 500}
    assert points[11].mrr == {"eur": 300, "usd": 500}
    assert [p.started for p in points] == [0] * 6 + [1, 0, 0, 0, 0, 1]
    assert [p.canceled for p in points] == [0] * 9 + [1, 0, 0]


def test_history_rolls_up_closed_months_once(year_of_history):
    stats_history.history(12, now=JUNE)
    months = {row.month for row in db.session.scalars(db.select(StatsMonth))}
    # Every closed month since the first start, empty ones too; June is counted live.
    assert date(2024, 1, 1) in months and date(2026, 5, 1) in months
    assert date(2026, 6, 1) not in months
    assert stats_history.refresh(JUNE + timedelta(hours=2)) == 0  # all settled


def test_a_late_event_is_picked_up_until_the_month_settles(year_of_history):
    early_june = datetime(2026, 6, 2, 8, tzinfo=UTC)  # May is not settled yet
    assert stats_history.history(12, now=early_june)[-2].subscriptions == 1
    subscription(supporter(), 100, "usd", started_at=at(2026, 5, 20))  # arrives late
    db.session.commit()
    # Within the hour the rollup is reused; after it, May is summed again.
    assert stats_history.history(12, now=early_june + timedelta(minutes=10))[-2].subscriptions == 1
    assert stats_history.history(12, now=early_june + timedelta(hours=2))[-2].subscriptions == 2
    # A full refresh (as after `flask demo seed`) rebuilds every month.
    assert stats_history.refresh(early_june, everything=True) > 0


def test_history_of_an_empty_ledger(app):
    points = stats_history.history(12, now=JUNE)
    assert len(points) == 12 and all(p.subscriptions == 0 and not p.mrr for p in points)


def test_figures_are_served_from_a_snapshot_while_fresh(client, app, ledger):
    from datetime import timedelta as td

    from support.models import StatsSnapshot

    signed_in(client, "viewer")
    assert client.get("/staff/api/stats.json").json["active_supporters"] == 6
    subscription(supporter(), 500, "usd")
    db.session.commit()
    assert client.get("/staff/api/stats.json").json["active_supporters"] == 6  # cached
    snapshot = db.session.get(StatsSnapshot, "dashboard")
    snapshot.computed_at -= td(minutes=2)
    db.session.commit()
    assert client.get("/staff/api/stats.json").json["active_supporters"] == 7  # recomputed
    app.config["STAFF_STATS_MAX_AGE"] = 0
    subscription(supporter(), 500, "usd")
    db.session.commit()
    assert client.get("/staff/api/stats.json").json["active_supporters"] == 8  # no cache


def test_churn_rate_says_what_it_is(client, ledger):
    signed_in(client, "viewer")
    page = client.get("/staff/").get_data(as_text=True)
    assert "20.0 %" in page  # 1 of 5
    assert "1 of the 5 people supporting 30 days ago have stopped since." in page


def test_an_empty_churn_rate_says_why(client, app):
    # The only supporter joined and stopped within the 30 days: no one to measure against.
    subscription(supporter(), 500, "usd", status="canceled", started_at=ago(20), canceled_at=ago(5))
    db.session.commit()
    signed_in(client, "viewer")
    page = client.get("/staff/").get_data(as_text=True)
    assert stats.overview(goal=0).churned_last_30_days == 1
    assert stats.overview(goal=0).churn_rate is None
    assert "Churn rate, last 30 days</dt><dd>—</dd>" in page
    assert "no one was supporting 30 days ago, so there is no one to measure against" in page


def test_applying_a_change_marks_the_figures_stale(client, app, ledger):
    from support.models import StatsSnapshot
    from support.stats import snapshot as stats_cache

    signed_in(client, "viewer")
    assert client.get("/staff/api/stats.json").json["active_supporters"] == 6
    subscription(supporter(), 500, "usd")
    stats_cache.mark_stale()  # what the worker does in the transaction applying an event
    db.session.commit()
    snapshot = db.session.get(StatsSnapshot, stats_cache.KEY)
    assert snapshot.stale_since is not None
    # Young, but stale: recomputed at once.
    assert client.get("/staff/api/stats.json").json["active_supporters"] == 7
    db.session.refresh(snapshot)
    assert snapshot.stale_since is None and snapshot.refreshing_since is None


def test_the_worker_recomputes_stale_figures_when_idle(app, ledger, monkeypatch):
    from support.models import StatsSnapshot
    from support.stats import snapshot as stats_cache

    stats_cache.refresh(goal=10)
    assert stats_cache.refresh_if_stale(10) is False  # not stale: nothing to do
    subscription(supporter(), 500, "usd")
    stats_cache.mark_stale()
    db.session.commit()
    assert stats_cache.refresh_if_stale(10) is False  # computed less than 5 s ago: later
    monkeypatch.setattr(stats_cache, "STALE_REFRESH_GAP", timedelta(0))
    assert stats_cache.refresh_if_stale(10) is True
    snapshot = db.session.get(StatsSnapshot, stats_cache.KEY)
    db.session.refresh(snapshot)
    assert snapshot.stale_since is None
    assert stats_cache.figures(10)["active_supporters"] == 7
    assert stats_cache.refresh_if_stale(10) is False


def test_a_failed_refresh_leaves_the_figures_stale(app, ledger, monkeypatch):
    from support.models import StatsSnapshot
    from support.stats import snapshot as stats_cache

    stats_cache.refresh(goal=10)
    stats_cache.mark_stale()
    db.session.commit()
    monkeypatch.setattr(stats_cache, "STALE_REFRESH_GAP", timedelta(0))

    def broken(goal, now=None):
        raise RuntimeError("database trouble")

    monkeypatch.setattr(stats_cache, "compute", broken)
    with pytest.raises(RuntimeError):
        stats_cache.refresh_if_stale(10)
    snapshot = db.session.get(StatsSnapshot, stats_cache.KEY)
    db.session.refresh(snapshot)
    assert snapshot.stale_since is not None and snapshot.refreshing_since is None


def test_people_are_counted_by_address_beside_stripe_customers(client, ledger):
    """Records are per Stripe customer; `active_people` counts each address once."""
    from support.models import Supporter

    first = db.session.scalar(
        db.select(Supporter).join(Supporter.subscriptions).order_by(Supporter.id).limit(1)
    )
    again = supporter(first.email)  # the same address typed at a second Checkout
    subscription(again, 100, "usd")
    erased = supporter(email="", erased_at=NOW)
    erased.email = None
    subscription(erased, 100, "usd")
    db.session.commit()
    figures = stats.overview(goal=10, now=NOW)
    assert figures.active_supporters == 8
    assert figures.active_people == 7  # `again` is not another person; `erased` is one
    signed_in(client, "viewer")
    body = client.get("/staff/api/stats.json").json
    assert (body["active_supporters"], body["active_people"]) == (8, 7)
    assert body["counting"]["active_supporters"].startswith("Stripe customers")
    assert body["counting"]["active_people"].startswith("distinct email addresses")
    page = " ".join(client.get("/staff/").get_data(as_text=True).split())
    assert "Active supporters (Stripe customers)</dt><dd>8</dd>" in page
    assert "Active people (distinct addresses)</dt><dd>7</dd>" in page


def test_figures_stored_before_people_were_counted_still_show(client, ledger):
    import json

    from support.models import StatsSnapshot
    from support.stats import snapshot as stats_cache

    body = stats_cache.refresh(goal=10)
    del body["active_people"]
    db.session.get(StatsSnapshot, stats_cache.KEY).body = json.dumps(body)
    db.session.commit()
    signed_in(client, "viewer")
    page = client.get("/staff/")
    assert page.status_code == 200 and "Active supporters" in page.get_data(as_text=True)
    assert 'data-figure="active_people"' not in page.get_data(as_text=True)
