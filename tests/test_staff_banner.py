"""The banner funnel page: impressions → clicks → checkouts started → paid."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import count

import pytest

from support.extensions import db
from support.models import BannerDailyStat, CheckoutAttempt, utcnow
from support.staff.insights import funnel
from tests.factories import ago, signed_in

_ids = count(1)


def attempt(variant, lang, days_ago, paid, source=None):
    db.session.add(
        CheckoutAttempt(
            session_id=f"cs_f{next(_ids)}", amount=500, currency="usd", frequency="month",
            lang=lang, variant=variant, source=source, created_at=ago(days_ago),
            campaign="banner" if variant else None,
            completed_at=ago(days_ago) if paid else None,
        )
    )  # fmt: skip


@pytest.fixture
def counted(app):
    today = utcnow().date()
    for back, shown, clicked in ((0, 1000, 50), (3, 500, 10), (40, 9999, 999)):
        day = today - timedelta(days=back)
        db.session.add(BannerDailyStat(day=day, variant="a", lang="en", impressions=shown,
                                       clicks=clicked, dismissals=0))  # fmt: skip
    db.session.add(BannerDailyStat(day=today, variant="b", lang="ar", impressions=200, clicks=4,
                                   dismissals=1))  # fmt: skip
    attempt("a", "en", 1, True, "https://news.example.org/en/article-1")
    attempt("a", "en", 2, True, "https://news.example.org/en/article-1")
    attempt("a", "en", 2, False, "https://news.example.org/en/article-2")
    attempt(None, "ar", 1, True, "https://news.example.org/ar/article-2")
    attempt("a", "en", 40, True, "https://news.example.org/en/old")
    db.session.commit()


def test_funnel_per_variant_and_language(counted):
    rows = {(r.variant, r.lang): r for r in funnel.funnel(30, utcnow().date())}
    assert {r.campaign for r in rows.values()} == {"banner", ""}
    a = rows[("a", "en")]
    assert (a.impressions, a.clicks, a.started, a.paid) == (1500, 60, 3, 2)
    assert a.click_rate == 4.0 and a.paid_rate == pytest.approx(66.7)
    b = rows[("b", "ar")]
    assert (b.impressions, b.clicks, b.started, b.paid) == (200, 4, 0, 0)
    assert b.paid_rate is None
    direct = rows[("", "ar")]
    assert (direct.impressions, direct.started, direct.paid) == (0, 1, 1)


def test_top_sources(counted):
    sources = funnel.top_sources(30, utcnow().date())
    assert [(s.source.rsplit("/", 1)[-1], s.started, s.paid) for s in sources] == [
        ("article-1", 2, 2), ("article-2", 1, 1), ("article-2", 1, 0),
    ]  # fmt: skip


def test_banner_page_and_period(client, counted):
    signed_in(client)
    page = client.get("/staff/banner").get_data(as_text=True)
    assert "1,500" in page and "article-1" in page and "/en/old" not in page
    longer = client.get("/staff/banner?days=90").get_data(as_text=True)
    assert "11,499" in longer and "/en/old" in longer
    assert re.search(
        r'value="30"\s+selected', client.get("/staff/banner?days=7x").get_data(as_text=True)
    )
