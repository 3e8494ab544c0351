"""The banner's server side: script budget and caching, content, beacons, iframe, preview."""

from __future__ import annotations

import gzip
import http.client
import io
import json
import threading
from datetime import timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import pytest
import sqlalchemy as sa
from flask import request, request_finished
from flask_limiter import Limit

from support.banner import assets, beacons, routes
from support.config import ConfigError, load_config
from support.extensions import db, limiter
from support.models import BannerDailyStat, CheckoutAttempt, utcnow
from support.security import DEFAULT_HEADERS
from tests.conftest import form_tokens
from tests.factories import subscription, supporter


def stats() -> dict[tuple[str, str], tuple[int, int, int]]:
    """(variant, lang) → (impressions, clicks, dismissals) for today."""
    db.session.expire_all()
    rows = db.session.scalars(sa.select(BannerDailyStat)).all()
    return {(r.variant, r.lang): (r.impressions, r.clicks, r.dismissals) for r in rows}


def beacon(client, body, content_type="text/plain;charset=UTF-8", **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/embed/events", data=data, content_type=content_type, headers=headers)


# --- banner.js --------------------------------------------------------------------------


def test_script_fits_the_size_budget():
    asset = assets.script()
    assert len(asset.gzipped) <= assets.BUDGET == 3072
    assert gzip.decompress(asset.gzipped) == asset.body
    assert b"attachShadow" in asset.body and b"sendBeacon" in asset.body


@pytest.mark.one_database
def test_script_is_cacheable_and_revalidates(client):
    plain = client.get("/embed/banner.js")
    zipped = client.get("/embed/banner.js", headers={"Accept-Encoding": "gzip, br"})
    assert plain.status_code == zipped.status_code == 200
    assert plain.mimetype == "text/javascript"
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data == assets.script().body
    for response in (plain, zipped):
        assert response.headers["Cache-Control"].startswith("public, max-age=")
        assert response.headers["ETag"].startswith('"')  # strong, not W/
        assert "Accept-Encoding" in response.headers["Vary"]
        assert "Cookie" not in response.headers["Vary"]
        assert "Set-Cookie" not in response.headers
    assert plain.headers["ETag"] != zipped.headers["ETag"]

    again = client.get(
        "/embed/banner.js",
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]},
    )
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == zipped.headers["ETag"]
    stale = client.get("/embed/banner.js", headers={"If-None-Match": '"something-old"'})
    assert stale.status_code == 200


# --- banner.json ------------------------------------------------------------------------


def test_json_in_english_with_amount_links(client):
    response = client.get("/embed/banner.json?lang=en")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=30"
    assert response.headers["ETag"].startswith('"')
    assert "Set-Cookie" not in response.headers
    data = response.get_json()
    assert (data["lang"], data["dir"]) == ("en", "ltr")
    assert [v["name"] for v in data["variants"]] == ["monthly", "goal"]
    monthly = data["variants"][0]
    assert monthly["headline"] == "Support us"
    assert monthly["text"] == "$1 a month makes a difference."
    assert [a["label"] for a in monthly["amounts"]] == ["$1 a month", "$5 a month", "$10 a month"]
    link = urlsplit(monthly["amounts"][1]["url"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == "http://support.test/en/"
    assert parse_qs(link.query) == {
        "amount": ["5"],
        "frequency": ["month"],
        "campaign": ["banner"],
        "variant": ["monthly"],
    }
    assert parse_qs(urlsplit(monthly["url"]).query)["variant"] == ["monthly"]
    assert data["goal"] == {
        "supporters": 0,
        "target": 1000,
        "label": "0 of 1,000 supporters so far",
    }


def test_json_in_arabic(client):
    data = client.get("/embed/banner.json?lang=ar").get_json()
    assert (data["lang"], data["dir"]) == ("ar", "rtl")
    assert data["variants"][0]["headline"] == "ادعمونا"
    assert data["label"] == "ادعم صحافتنا"
    assert "{n}" in data["articles"]
    assert urlsplit(data["variants"][0]["url"]).path == "/ar/"


@pytest.mark.parametrize("query", ["", "?lang=fr", "?lang=%3Cscript%3E", "?lang=", "?lang=EN-gb"])
def test_unknown_language_falls_back_to_english(client, query):
    response = client.get("/embed/banner.json" + query)
    assert response.status_code == 200
    assert response.get_json()["lang"] == "en"


def test_json_revalidates_with_304(client):
    first = client.get("/embed/banner.json?lang=ar")
    again = client.get(
        "/embed/banner.json?lang=ar", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    other = client.get(
        "/embed/banner.json?lang=en", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert other.status_code == 200


def test_goal_progress_counts_active_supporters(app, client):
    app.config["SUPPORT_BANNER_CACHE_SECONDS"] = 0
    for status in ("active", "active", "canceled"):
        subscription(supporter(), status=status)
    db.session.commit()
    goal = client.get("/embed/banner.json").get_json()["goal"]
    assert (goal["supporters"], goal["target"]) == (2, 1000)

    app.config["SUPPORT_GOAL"] = 0
    assert client.get("/embed/banner.json").get_json()["goal"] is None


def test_configured_variants_and_own_words(app, client):
    app.config["SUPPORT_BANNER_VARIANTS"] = load_config(
        {
            "SUPPORT_BANNER_VARIANTS": json.dumps(
                [
                    {"name": "short", "weight": 3, "amounts": [2, 7.5]},
                    {
                        "name": "own-words",
                        "weight": 1,
                        "copy": "goal",
                        "headline": {"en": "Keep us free", "ar": "حافظوا على استقلالنا"},
                    },
                ]
            )
        }
    )["SUPPORT_BANNER_VARIANTS"]
    data = client.get("/embed/banner.json?lang=ar").get_json()
    short, own = data["variants"]
    assert (short["name"], short["weight"], own["weight"]) == ("short", 3, 1)
    assert [parse_qs(urlsplit(a["url"]).query)["amount"] for a in short["amounts"]] == [
        ["2"],
        ["7.5"],
    ]
    assert own["headline"] == "حافظوا على استقلالنا"
    assert own["cta"] == "كن من داعمينا"  # not overridden: the translated copy
    assert (
        beacon(client, {"type": "click", "variant": "own-words", "lang": "ar"}).status_code == 204
    )
    assert beacon(client, {"type": "click", "variant": "monthly", "lang": "ar"}).status_code == 400


@pytest.mark.parametrize(
    "value",
    [
        "[",
        "[]",
        '{"name": "a"}',
        '[{"name": "a"}, {"name": "a"}]',
        '[{"name": "bad name"}]',
        '[{"name": "a", "weight": 0}]',
        '[{"name": "a", "weight": "1"}]',
        '[{"name": "a", "copy": "shouting"}]',
        '[{"name": "a", "amounts": [-1]}]',
        '[{"name": "a", "headline": {"en": "Only English"}}]',
        '[{"name": "a", "colour": "red"}]',
        "/nonexistent/variants.json",
    ],
)
def test_bad_variant_settings_stop_the_start(value):
    with pytest.raises(ConfigError, match="SUPPORT_BANNER_VARIANTS"):
        load_config({"SUPPORT_BANNER_VARIANTS": value})


def test_variants_from_a_file(tmp_path):
    path = tmp_path / "variants.json"
    path.write_text('[{"name": "only", "weight": 2}]', encoding="utf-8")
    variants = load_config({"SUPPORT_BANNER_VARIANTS": str(path)})["SUPPORT_BANNER_VARIANTS"]
    assert variants == [{"name": "only", "weight": 2, "copy": "monthly"}]


# --- what a CDN may keep ----------------------------------------------------------------

CACHED = [
    ("/embed/banner.js", {"Accept-Encoding": "gzip"}),
    ("/embed/banner.js", {}),
    ("/embed/banner.css", {"Accept-Encoding": "gzip"}),
    ("/embed/banner.css", {}),
    ("/embed/banner.json?lang=ar", {}),
]
SECURITY = {name.lower(): value for name, value in DEFAULT_HEADERS.items()}
ENTITY = {"content-type", "content-length", "content-encoding"}


def header_dict(response) -> dict[str, str]:
    """Lower-cased header names to values (each name must appear once)."""
    names = [name.lower() for name, _ in response.headers]
    assert len(names) == len(set(names)), names
    return {name.lower(): value for name, value in response.headers}


@pytest.mark.parametrize(("path", "headers"), CACHED)
def test_cached_embeds_are_the_same_for_every_reader(app, client, path, headers):
    """Nothing per-reader (cookie, session, rate-limit headers): a CDN may keep them."""
    assert client.get("/en/").status_code == 200  # this reader now has a session cookie
    assert client.get_cookie("session") is not None
    reader = client.get(
        path,
        headers={**headers, "Accept-Language": "ar", "User-Agent": "Reader/1.0"},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    anonymous = app.test_client().get(path, headers=headers)
    assert reader.status_code == anonymous.status_code == 200
    assert reader.data == anonymous.data
    assert header_dict(reader) == header_dict(anonymous)

    got = header_dict(reader)
    expected = {
        **SECURITY,
        "etag": got["etag"],
        "access-control-allow-origin": "*",
        "content-length": str(len(reader.data)),
    }
    if path in ("/embed/banner.js", "/embed/banner.css"):
        expected["cache-control"] = "public, max-age=3600, stale-while-revalidate=86400"
        expected["content-type"] = (
            "text/javascript; charset=utf-8" if path.endswith(".js") else "text/css; charset=utf-8"
        )
        expected["vary"] = "Accept-Encoding"
        if headers:
            expected["content-encoding"] = "gzip"
    else:
        expected["cache-control"] = "public, max-age=30"
        expected["content-type"] = "application/json"
    assert got == expected  # so no Set-Cookie, no Vary: Cookie, no X-RateLimit-*
    assert got["etag"].startswith('"') and got["etag"].endswith('"')  # strong, not W/


@pytest.mark.parametrize(("path", "headers"), CACHED)
def test_not_modified_keeps_the_caching_headers(client, path, headers):
    """A 304 carries what a cache updates its copy with, and no body."""
    first = client.get(path, headers=headers)
    again = client.get(path, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    kept = {name: value for name, value in header_dict(first).items() if name not in ENTITY}
    assert header_dict(again) == kept
    assert {"etag", "cache-control", "access-control-allow-origin"} <= kept.keys()
    assert SECURITY.items() <= kept.items()


def test_cached_embeds_are_answered_by_flask(app, client, monkeypatch):
    """Flask's hooks and signals (what error trackers use) see every embed request."""
    app.config["SUPPORT_BANNER_CACHE_SECONDS"] = 60
    seen = []

    def finished(sender, response, **extra):
        seen.append((request.endpoint, response.status_code))

    with request_finished.connected_to(finished, app):
        js = client.get("/embed/banner.js", headers={"Accept-Encoding": "gzip"})
        client.get("/embed/banner.js", headers={"If-None-Match": js.headers["ETag"]})
        client.get("/embed/banner.json?lang=ar")  # renders the content
        warm = client.get("/embed/banner.json?lang=ar")  # from the process's cache
        client.get("/embed/banner.json?lang=ar", headers={"If-None-Match": warm.headers["ETag"]})
    assert seen == [
        ("banner.script", 200),
        ("banner.script", 200),
        ("banner.banner_json", 200),
        ("banner.banner_json", 200),
        ("banner.banner_json", 304),
    ]

    def broken():
        raise RuntimeError("the script cannot be read")

    monkeypatch.setattr(assets, "script", broken)
    failed = client.get("/embed/banner.js")
    assert failed.status_code == 500 and failed.get_json()["error"]["status"] == 500


def test_cached_embeds_are_never_rate_limited(app, client, monkeypatch):
    """A default limit for the whole app leaves them alone (and adds no X-RateLimit-*)."""
    reader = f"reader-{uuid4()}"  # a key no other test's requests count against
    default = Limit("2/minute", key_function=lambda: reader).bind(limiter)
    monkeypatch.setattr(limiter.limit_manager, "_default_limits", [default])
    for path, headers in CACHED * 2:
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        assert not [name for name, _ in response.headers if name.startswith("X-RateLimit")]
    # The same limit does hold for the banner's other pages.
    pages = [client.get("/embed/banner.html?variant=goal").status_code for _ in range(3)]
    assert pages == [200, 200, 429]
    # The limiter's request filter names the same routes (else they only cost more).
    adapter = app.url_map.bind("support.test")
    assert {adapter.match(urlsplit(path).path)[0] for path, _ in CACHED} == routes.EXEMPT


# --- beacons ----------------------------------------------------------------------------


def test_beacons_add_up_per_day_variant_and_language(client):
    sent = [
        ("impression", "monthly", "en"),
        ("impression", "monthly", "en"),
        ("click", "monthly", "en"),
        ("impression", "goal", "ar"),
        ("dismiss", "goal", "ar"),
    ]
    for kind, variant, lang in sent:
        response = beacon(client, {"type": kind, "variant": variant, "lang": lang})
        assert response.status_code == 204 and response.data == b""
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Set-Cookie" not in response.headers
    assert stats() == {("monthly", "en"): (2, 1, 0), ("goal", "ar"): (1, 0, 1)}

    yesterday = utcnow().date() - timedelta(days=1)
    beacons.record(beacons.Beacon("click", "monthly", "en"), day=yesterday)
    db.session.commit()
    days = db.session.scalars(
        sa.select(BannerDailyStat.day).where(BannerDailyStat.variant == "monthly")
    ).all()
    assert sorted(days) == [yesterday, utcnow().date()]


def test_beacons_keep_nothing_about_the_reader(client):
    response = beacon(
        client,
        {"type": "click", "variant": "goal", "lang": "en", "url": "https://news.example.org/x"},
        headers={"User-Agent": "Reader/1.0", "Referer": "https://news.example.org/x"},
    )
    assert response.status_code == 204
    columns = set(BannerDailyStat.__table__.columns.keys())
    assert columns == {
        "id",
        "day",
        "campaign",
        "variant",
        "lang",
        "impressions",
        "clicks",
        "dismissals",
    }


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ({"type": "hover", "variant": "monthly", "lang": "en"}, "text/plain", 400),
        ({"variant": "monthly", "lang": "en"}, "text/plain", 400),
        ({"type": "click", "variant": "nope", "lang": "en"}, "text/plain", 400),
        ({"type": "click", "variant": ["monthly"], "lang": "en"}, "text/plain", 400),
        ({"type": "click", "variant": "monthly", "lang": "fr"}, "text/plain", 400),
        ('["click", "monthly", "en"]', "text/plain", 400),
        ("type=click", "text/plain", 400),
        (b"\xff\xfe{", "text/plain", 400),
        ("", "text/plain", 400),
        ({"type": "click", "variant": "monthly", "lang": "en"}, "application/x-www-form-urlencoded",
         415),
        ({"type": "click", "variant": "monthly", "lang": "en"}, "multipart/form-data", 415),
        ('{"type": "click", "pad": "' + "x" * 5000 + '"}', "text/plain", 413),
    ],
)  # fmt: skip
def test_bad_beacons_are_refused_with_json(client, body, content_type, status):
    response = beacon(client, body, content_type=content_type)
    assert response.status_code == status
    assert response.is_json and response.get_json()["error"]["status"] == status
    assert stats() == {}


@pytest.mark.one_database
def test_oversized_beacon_without_length_is_refused(client):
    response = client.post(
        "/embed/events",
        input_stream=io.BytesIO(b"{" + b" " * 10_000 + b"}"),
        content_type="text/plain",
        headers={"Transfer-Encoding": "chunked"},
        environ_base={"wsgi.input_terminated": True},  # as gunicorn sets for chunked bodies
    )
    assert response.status_code == 413


def test_beacons_are_rate_limited(app, client):
    app.config["SUPPORT_BANNER_EVENTS_LIMIT"] = "3/minute"
    body = {"type": "impression", "variant": "monthly", "lang": "en"}
    assert [beacon(client, body).status_code for _ in range(3)] == [204, 204, 204]
    refused = beacon(client, body)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["status"] == 429
    assert stats() == {("monthly", "en"): (3, 0, 0)}


def test_concurrent_beacons_lose_no_count(live_server):
    host, port = urlsplit(live_server.url).netloc.split(":")
    body = json.dumps({"type": "impression", "variant": "goal", "lang": "ar"})
    failures = []

    def send(count: int) -> None:
        for _ in range(count):
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("POST", "/embed/events", body, {"Content-Type": "text/plain"})
            status = conn.getresponse().status
            conn.close()
            if status != 204:
                failures.append(status)

    threads = [threading.Thread(target=send, args=(5,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert stats() == {("goal", "ar"): (40, 0, 0)}


# --- iframe, preview, attribution -------------------------------------------------------


def test_iframe_page_is_limited_to_allowed_hosts(client):
    response = client.get(
        "/embed/banner.html?lang=ar&variant=goal&source=https://news.example.org/ar/1"
    )
    assert response.status_code == 200
    [policy] = [
        directive.split()[1:]
        for directive in response.headers["Content-Security-Policy"].split("; ")
        if directive.startswith("frame-ancestors ")
    ]
    assert policy[0] == "'self'"
    # Any port: an article at https://news.example.org:8443 frames it as well.
    for origin in (
        "https://news.example.org:*",
        "http://news.example.org:*",
        "https://*.news.example.org:*",
    ):
        assert origin in policy
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Cache-Control"].startswith("public")
    html = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "الصحافة المستقلة بحاجة إليك" in html
    assert 'target="_top"' in html
    assert "variant=goal&amp;source=https%3A//news.example.org/ar/1" in html


def test_iframe_links_carry_only_the_article_and_its_campaign(client):
    article = "https://news.example.org/ar/1?utm_email=them@example.org&utm_source=nl#top"
    html = client.get("/embed/banner.html", query_string={"lang": "ar", "source": article})
    page = html.get_data(as_text=True)
    assert "&amp;source=https%3A//news.example.org/ar/1%3Futm_source%3Dnl" in page
    assert "them" not in page and "utm_email" not in page
    # A source on another host, or holding an address in its path, is not passed on.
    for source in ("https://evil.example/a", "https://news.example.org/u/them@example.org"):
        page = client.get("/embed/banner.html", query_string={"source": source})
        assert "source=" not in page.get_data(as_text=True)


def test_iframe_page_draws_a_variant_when_none_is_named(client):
    response = client.get("/embed/banner.html?lang=xx")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert '<html lang="en" dir="ltr">' in response.get_data(as_text=True)


@pytest.mark.one_database
def test_preview_shows_both_languages_and_the_snippet(client):
    response = client.get("/embed/", headers={"Accept-Language": "en"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    snippet = unescape(page)
    assert '<script async src="http://support.test/embed/banner.js"></script>' in snippet
    assert '<div data-support-banner data-lang="ar" data-source="https://' in snippet
    assert 'data-support-banner data-lang="en"' in page
    assert 'data-support-banner data-lang="ar"' in page
    # The iframe snippet, with the height banner.css is laid out for; the README's too.
    iframe = f'title="Support our journalism" style="{routes.IFRAME_STYLE}"></iframe>'
    assert iframe in snippet
    assert "height:16rem" not in snippet
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert iframe in readme


@pytest.mark.one_database
def test_events_only_accept_posts(client):
    response = client.get("/embed/events")
    assert response.status_code == 405 and response.is_json


def test_banner_attribution_reaches_the_checkout_attempt(client):
    query = (
        "?amount=5&frequency=month&campaign=banner&variant=goal"
        "&source=https%3A%2F%2Fnews.example.org%2Fen%2Farticle-7"
    )
    page = client.get("/en/" + query)
    assert page.status_code == 200
    form = {
        **form_tokens(page.get_data(as_text=True)),
        "amount": "5",
        "currency": "usd",
        "frequency": "month",
        "source": "https://news.example.org/en/article-7",
        "campaign": "banner",
        "variant": "goal",
    }
    response = client.post("/en/checkout", data=form)
    assert response.status_code == 303
    attempt = db.session.scalars(sa.select(CheckoutAttempt)).one()
    assert (attempt.source, attempt.campaign, attempt.variant, attempt.lang) == (
        "https://news.example.org/en/article-7",
        "banner",
        "goal",
        "en",
    )
