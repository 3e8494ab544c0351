"""What readers meet of a published campaign: banner.json, beacons, the appeal, Stripe metadata."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from support import process_cache
from support.campaigns import live, store
from support.extensions import db
from support.models import BannerDailyStat, CheckoutAttempt, Subscription, utcnow
from tests.conftest import form_tokens
from tests.helpers.campaigns import sample
from tests.helpers.clock import ShiftedClock

ARTICLE = "https://news.example.org/en/sport/match-report"


def publish(doc: dict) -> None:
    """Save a campaign as live and let this process see it at once."""
    store.create({**doc, "status": "live"}, "editor@example.org")
    db.session.commit()
    live.forget()


def banner_json(client, lang: str = "en") -> dict:
    response = client.get(f"/embed/banner.json?lang={lang}")
    assert response.status_code == 200
    return response.get_json()


def test_without_a_live_campaign_readers_get_what_they_got_before(client):
    store.create(sample(), None)  # a draft changes nothing
    store.create(sample("over", status="ended"), None)
    db.session.commit()
    live.forget()
    content = banner_json(client)
    assert content["campaigns"] == []
    assert content["slug"] == "banner"
    assert [v["name"] for v in content["variants"]] == ["monthly", "goal"]
    page = client.get("/en/").get_data(as_text=True)
    assert "$1 a month makes a difference" in page
    assert 'name="campaign"' in page and 'value="ramadan"' not in page


def test_banner_json_carries_the_live_campaign_in_each_language(client):
    sport = "https://news.example.org/en/sport/"
    publish(sample(targeting={"langs": ["en", "ar"], "url_prefixes": [sport]}))
    english, arabic = banner_json(client, "en"), banner_json(client, "ar")
    [campaign] = english["campaigns"]
    assert campaign["slug"] == "ramadan"
    assert campaign["prefixes"] == ["https://news.example.org/en/sport/"]
    assert campaign["goal"]["target"] == 500
    iftar, night = campaign["variants"]
    assert (iftar["headline"], iftar["cta"], iftar["weight"]) == ("Iftar stories", "Give now", 2)
    assert night["weight"] == 1
    query = parse_qs(urlsplit(iftar["url"]).query)
    assert query == {"campaign": ["ramadan"], "variant": ["iftar"]}
    assert [a["label"] for a in iftar["amounts"]] == ["$3 a month", "$7 a month", "$15 a month"]
    assert arabic["campaigns"][0]["variants"][1]["headline"] == "أخبار الليل"
    assert urlsplit(arabic["campaigns"][0]["variants"][1]["url"]).path == "/ar/"
    # The default campaign stays beside it, for articles it does not target.
    assert [v["name"] for v in english["variants"]] == ["monthly", "goal"]


def test_the_iframe_banner_shows_the_campaign_aimed_at_its_article(client):
    publish(sample(targeting={"url_prefixes": ["https://news.example.org/en/sport/"]}))
    aimed = client.get(f"/embed/banner.html?lang=en&variant=night&source={ARTICLE}")
    html = aimed.get_data(as_text=True)
    assert "Late-night news" in html and "campaign=ramadan" in html and "of 500" in html
    other = client.get("/embed/banner.html?lang=en&source=https://news.example.org/en/x")
    assert "campaign=banner" in other.get_data(as_text=True)


def test_a_campaign_for_one_language_is_not_offered_in_the_other(client):
    publish(sample(targeting={"langs": ["ar"], "url_prefixes": []}))
    assert banner_json(client, "en")["campaigns"] == []
    assert banner_json(client, "ar")["campaigns"][0]["slug"] == "ramadan"


def test_hostile_copy_stays_text(client):
    doc = sample()
    doc["banner"]["variants"][0]["headline"]["en"] = '<img src=x onerror="alert(1)">'
    doc["appeal"]["en"]["headline"] = "<script>alert(1)</script>"
    publish(doc)
    content = client.get("/embed/banner.json?lang=en").get_data(as_text=True)
    assert json.loads(content)["campaigns"][0]["variants"][0]["headline"].startswith("<img")
    page = client.get("/en/?campaign=ramadan").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_appeal_shows_the_campaign_named_by_the_link(client):
    doc = sample(default_frequency="year")
    publish(doc)
    page = client.get("/ar/?campaign=ramadan").get_data(as_text=True)
    assert "ادعم تغطيتنا في رمضان" in page and "الفقرة الأولى." in page
    english = client.get("/en/?campaign=ramadan").get_data(as_text=True)
    assert "<title>Keep Ramadan reporting free" in english
    assert '<p class="copy lede">First.</p>' in english
    for amount in ("3", "7", "15"):
        assert f'name="amount" value="{amount}"' in english
    assert 'value="year" checked' in english
    assert "of 500" in english  # the campaign's goal


def test_an_ended_or_unknown_campaign_falls_back_to_the_default_appeal(client):
    publish(sample(ends_at=(utcnow() + timedelta(seconds=1)).isoformat()))
    store.create(sample("old", status="ended"), None)
    db.session.commit()
    for slug in ("old", "nope", "banner"):
        response = client.get(f"/en/?campaign={slug}")
        assert response.status_code == 200
        assert "$1 a month makes a difference" in response.get_data(as_text=True)


def test_without_a_name_the_appeal_shows_the_running_campaign(client):
    publish(sample())
    page = client.get("/en/").get_data(as_text=True)
    assert "Keep Ramadan reporting free" in page
    # The gift is attributed to what the reader saw.
    assert 'name="campaign" type="hidden" value="ramadan"' in page


def test_a_refused_form_keeps_the_campaign(client):
    publish(sample())
    page = client.get("/en/?campaign=ramadan&variant=iftar").get_data(as_text=True)
    response = client.post(
        "/en/checkout",
        data={**form_tokens(page), "amount": "other", "amount_other": "abc", "currency": "usd"},
    )
    assert response.status_code == 400
    assert "Keep Ramadan reporting free" in response.get_data(as_text=True)


def post_beacon(client, **body):
    return client.post("/embed/events", data=json.dumps(body), content_type="text/plain")


def test_beacons_count_per_campaign(client):
    publish(sample())
    assert post_beacon(client, type="impression", campaign="ramadan", variant="iftar", lang="ar")
    assert post_beacon(client, type="click", campaign="ramadan", variant="iftar", lang="ar")
    # A script cached from before campaigns sends no campaign: the default's.
    assert post_beacon(client, type="impression", variant="monthly", lang="en").status_code == 204
    rows = {
        (r.campaign, r.variant, r.lang): (r.impressions, r.clicks)
        for r in db.session.scalars(sa.select(BannerDailyStat))
    }
    assert rows == {("ramadan", "iftar", "ar"): (1, 1), ("banner", "monthly", "en"): (1, 0)}
    for bad in (
        {"campaign": "ramadan", "variant": "monthly"},  # the default's variant
        {"campaign": "nope", "variant": "iftar"},
        {"campaign": 7, "variant": "iftar"},
    ):
        response = post_beacon(client, type="impression", lang="en", **bad)
        assert response.status_code == 400, bad


def test_beacons_of_a_draft_are_refused_and_of_an_ended_campaign_counted(client):
    store.create(sample("draft"), None)
    store.create(sample("over", status="ended"), None)
    db.session.commit()
    live.forget()
    draft = post_beacon(client, type="impression", campaign="draft", variant="iftar", lang="en")
    assert draft.status_code == 400
    # A CDN may serve a banner of a campaign that just ended for a few more minutes.
    over = post_beacon(client, type="impression", campaign="over", variant="iftar", lang="en")
    assert over.status_code == 204


def test_publishing_reaches_readers_without_a_restart(app, client, monkeypatch):
    clock = ShiftedClock()  # the process cache behind the live campaigns and the banner
    monkeypatch.setattr(process_cache, "time", clock)
    app.config["SUPPORT_BANNER_CACHE_SECONDS"] = 0.2
    live.forget()
    assert banner_json(client)["campaigns"] == []
    store.create({**sample(), "status": "live"}, None)  # another process: no forget()
    db.session.commit()
    assert banner_json(client)["campaigns"] == []  # still this process's snapshot
    clock.advance(0.3)
    assert banner_json(client)["campaigns"][0]["slug"] == "ramadan"


def test_the_campaign_travels_into_stripe_and_the_ledger(live_server, emulator):
    publish(sample())
    http = requests.Session()
    base = live_server.url
    appeal = http.get(f"{base}/en/?campaign=ramadan&variant=night&amount=7", timeout=10)
    assert "Keep Ramadan reporting free" in appeal.text
    # The hidden attribution fields, as a browser sends them.
    assert 'name="campaign" type="hidden" value="ramadan"' in appeal.text
    assert 'name="variant" type="hidden" value="night"' in appeal.text
    form = {"amount": "7", "frequency": "month", "currency": "usd"}
    checkout = http.post(
        f"{base}/en/checkout",
        data={**form_tokens(appeal.text), **form, "campaign": "ramadan", "variant": "night"},
        allow_redirects=False,
        timeout=10,
    )
    assert checkout.status_code == 303, checkout.text[:300]
    paid = http.post(
        checkout.headers["Location"],
        data={"action": "pay", "email": "reader@example.org", "name": "Reader"},
        allow_redirects=False,
        timeout=30,
    )
    assert paid.status_code == 303
    [session] = emulator.state()["objects"]["checkout.session"]
    assert session["metadata"]["campaign"] == "ramadan"
    assert session["metadata"]["variant"] == "night"
    [subscription] = emulator.state()["objects"]["subscription"]
    assert subscription["metadata"]["campaign"] == "ramadan"
    live_server.settle()
    [attempt] = db.session.scalars(sa.select(CheckoutAttempt)).all()
    assert (attempt.campaign, attempt.variant, attempt.completed_at is not None) == (
        "ramadan",
        "night",
        True,
    )
    [row] = db.session.scalars(sa.select(Subscription)).all()
    assert (row.campaign, row.variant, row.amount) == ("ramadan", "night", 700)


@pytest.mark.browser
def test_the_banner_picks_the_campaign_aimed_at_the_article(page, live_server):
    from tests.helpers.article import Article

    publish(sample("sport", targeting={"url_prefixes": ["https://news.example.org/en/sport/"]}))
    server = Article()
    try:
        aimed = server.page(live_server.url, f'data-lang="en" data-source="{ARTICLE}"')
        other = server.page(
            live_server.url, 'data-lang="en" data-source="https://news.example.org/en/politics"'
        )
        page.goto(aimed)
        banner = page.get_by_role("region", name="Support our journalism")
        banner.wait_for()
        assert banner.locator("h2").inner_text() in ("Iftar stories", "Late-night news")
        query = parse_qs(urlsplit(banner.locator("a.c").get_attribute("href")).query)
        assert query["campaign"] == ["sport"] and query["source"] == [ARTICLE]
        page.goto(other)
        banner.wait_for()
        assert banner.locator("h2").inner_text() in (
            "Support us",
            "Independent journalism needs you",
        )
    finally:
        server.server.shutdown()
