"""The banner in Debian's Chromium, embedded in an article served from another origin."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.models import BannerDailyStat
from tests.helpers import network
from tests.helpers.article import Article

pytestmark = pytest.mark.browser

SOURCE = "https://news.example.org/en/article-123"


@pytest.fixture
def article(live_server) -> Iterator[Callable[..., str]]:
    server = Article()
    yield lambda attributes="", **kw: server.page(live_server.url, attributes, **kw)
    server.server.shutdown()


def region(page):
    return page.locator("[data-support-banner] section[role=region]")


def settled(page) -> None:
    """Wait until every banner host has loaded or given up (no placeholder left)."""
    page.wait_for_function(
        "[...document.querySelectorAll('[data-support-banner]')].every("
        "h => !h.shadowRoot || !h.shadowRoot.querySelector('.r'))"
    )
    network.quiet(page)


def counts(expected: tuple[int, int, int], variant_lang=None, timeout: float = 5) -> dict:
    """Poll the daily counters (beacons are asynchronous) until they show `expected`."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        rows = {
            (r.variant, r.lang): (r.impressions, r.clicks, r.dismissals)
            for r in db.session.scalars(sa.select(BannerDailyStat))
        }
        totals = tuple(sum(v[i] for v in rows.values()) for i in range(3))
        if totals == expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_english_banner_links_to_the_appeal_with_attribution(page, article, live_server):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    url = article(f'data-lang="en" data-source="{SOURCE}"')
    page.goto(url)
    banner = page.get_by_role("region", name="Support our journalism")
    banner.wait_for()
    assert banner.evaluate("e => getComputedStyle(e).direction") == "ltr"
    headline = banner.locator("h2").inner_text()
    assert headline in ("Support us", "Independent journalism needs you")

    cta = banner.locator("a.c")
    query = parse_qs(urlsplit(cta.get_attribute("href")).query)
    assert cta.get_attribute("href").startswith(live_server.url + "/en/?")
    assert query["source"] == [SOURCE]
    assert query["campaign"] == ["banner"]
    variant = query["variant"][0]
    assert variant in ("monthly", "goal")
    rows = counts((1, 0, 0))
    assert rows == {(variant, "en"): (1, 0, 0)}

    banner.get_by_role("link", name="$5 a month").click()
    page.wait_for_url(live_server.url + "/en/?*")
    assert page.locator("input[name=amount][value='5']").is_checked()
    assert page.locator("input[name=variant]").input_value() == variant
    assert page.locator("input[name=source]").input_value() == SOURCE
    assert counts((1, 1, 0)) == {(variant, "en"): (1, 1, 0)}

    # Only the article and the support service were contacted, and neither set a cookie.
    origins = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in requests}
    assert origins <= {urlsplit(url).scheme + "://" + urlsplit(url).netloc, live_server.url}


def test_arabic_banner_is_right_to_left(page, article):
    page.goto(article('data-lang="ar"'))
    banner = page.get_by_role("region", name="ادعم صحافتنا")
    banner.wait_for()
    assert banner.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert banner.locator("h2").inner_text() in ("ادعمونا", "الصحافة المستقلة بحاجة إليك")
    assert "/ar/?" in banner.locator("a.c").get_attribute("href")


def test_page_language_is_used_without_data_lang(page, article):
    page.goto(article("", html_lang="ar-SY"))
    page.get_by_role("region", name="ادعم صحافتنا").wait_for()
    source = parse_qs(urlsplit(region(page).locator("a.c").get_attribute("href")).query)["source"]
    assert source == [page.url]  # no data-source: the article's own address


def test_a_newsletter_address_in_the_article_url_stays_on_the_article_page(page, article):
    url = article('data-lang="en"')
    page.goto(url + "?email=them%40example.org&utm_source=nl&utm_email=them@example.org#top")
    region(page).wait_for()
    href = region(page).locator("a.c").get_attribute("href")
    assert "example.org" not in href.replace(urlsplit(url).netloc, "")
    assert parse_qs(urlsplit(href).query)["source"] == [url + "?utm_source=nl"]


def test_dismissal_lasts_across_page_loads(page, article):
    url = article('data-lang="en"')
    page.goto(url)
    region(page).wait_for()
    # Keyboard only: the close button is the first thing Tab reaches on this page.
    page.keyboard.press("Tab")
    label = page.evaluate("document.activeElement.shadowRoot.activeElement.ariaLabel")
    assert label == "Hide this appeal"
    page.keyboard.press("Enter")
    assert region(page).count() == 0
    assert sum(row[2] for row in counts((1, 0, 1)).values()) == 1

    page.reload()
    settled(page)
    assert region(page).count() == 0
    page.goto(url)
    settled(page)
    assert region(page).count() == 0
    assert page.locator("#title").is_visible()


def test_returning_supporter_is_never_asked_again(page, article):
    url = article('data-lang="ar"')
    page.goto(url + "#supported")
    settled(page)
    assert region(page).count() == 0
    page.goto(url)
    settled(page)
    assert region(page).count() == 0
    page.goto(article('data-lang="en"'))
    settled(page)
    assert region(page).count() == 0


def test_no_cookies_anywhere(page, article):
    page.goto(article('data-lang="en" data-count-articles'))
    region(page).wait_for()
    region(page).locator("a.c").hover()
    assert page.evaluate("document.cookie") == ""
    assert page.context.cookies() == []
    stored = page.evaluate("Object.keys(localStorage)")
    assert stored == ["supportBanner"]


def test_articles_read_are_counted_in_the_browser(page, article):
    url = article('data-lang="en" data-count-articles')
    page.goto(url)
    region(page).wait_for()
    assert "Articles you have read" not in region(page).inner_text()  # the first one
    page.goto(url)
    region(page).wait_for()
    page.reload()  # a reload is not another article
    region(page).wait_for()
    assert "Articles you have read this month: 2" in region(page).inner_text()


def test_frequency_cap_rests_the_banner(page, article):
    url = article('data-lang="en"')
    for _ in range(5):
        page.goto(url)
        region(page).wait_for()
        page.wait_for_function("(JSON.parse(localStorage.supportBanner || '{}').seen || 0) > 0")
    page.goto(url)
    settled(page)
    assert region(page).count() == 0


def test_layout_shift_stays_small(page, article):
    page.goto(article('data-lang="ar"', paragraphs=2))
    region(page).wait_for()
    settled(page)
    footer = page.locator("#footer").bounding_box()
    assert footer["y"] < 720  # the footer below the banner is on screen, so shifts count
    page.wait_for_timeout(300)
    shift = page.evaluate("window.layoutShift")
    assert shift <= 0.1, shift


def test_network_failure_leaves_the_page_alone(page, article):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route("**/embed/banner.json*", lambda route: route.abort())
    page.goto(article('data-lang="en"'))
    settled(page)
    assert region(page).count() == 0
    host = page.locator("[data-support-banner]")
    assert host.bounding_box()["height"] == 0
    assert page.locator("#title").inner_text() == "Water returns to the eastern districts"
    assert errors == []


def test_server_error_leaves_the_page_alone(page, article):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route(
        "**/embed/banner.json*",
        lambda route: route.fulfill(
            status=500, body="{}", headers={"Access-Control-Allow-Origin": "*"}
        ),
    )
    page.goto(article('data-lang="en"'))
    settled(page)
    assert region(page).count() == 0
    assert errors == []
