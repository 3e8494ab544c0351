"""The iframe banner, pasted as /embed/ gives it, on an article of another origin:
framed on an allowed host at any port, and never clipped from 320 to 1280 px."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.helpers.article import Article

pytestmark = pytest.mark.browser

_SNIPPET = re.compile(r"<pre class=\"snippet\" dir=\"ltr\"><code>(&lt;iframe .*?)</code></pre>")


@pytest.fixture
def article() -> Iterator[Article]:
    server = Article()
    yield server
    server.server.shutdown()


def snippet(client_get, lang: str, variant: str) -> str:
    """The iframe snippet shown on /embed/, for `lang`, with `variant` pinned."""
    [code] = _SNIPPET.findall(client_get("/embed/").get_data(as_text=True))
    code = html.unescape(code)
    assert "lang=ar&" in code
    return code.replace("lang=ar&", f"lang={lang}&variant={variant}&")


def framed(app: Flask, live_server, article: Article, browser, width: int, lang: str, variant):
    """An article page `width` px wide with the snippet in it; (page, frame, context)."""
    code = snippet(app.test_client().get, lang, variant)
    url = article.iframe_page(code, html_lang=lang)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(url)
    frame = page.frame_locator("iframe")
    return page, frame, context


@pytest.mark.parametrize("width", [320, 390, 1280])
@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("variant", ["monthly", "goal"])
def test_the_snippet_fits_the_banner_at_every_width(
    app, live_server, article, browser, width, lang, variant
):
    # The article is served at http://127.0.0.1:<port>: the host is allowed on any port.
    app.config.update(
        SUPPORT_ALLOWED_HOSTS=["news.example.org", "127.0.0.1"],
        SUPPORT_GOAL=1000,
        SUPPORT_GOAL_MIN_SHOWN=0,  # the goal bar too, the tallest banner
    )
    page, frame, context = framed(app, live_server, article, browser, width, lang, variant)
    cta = frame.locator("a.c")
    cta.wait_for()
    assert frame.locator("progress").count() == 1
    inner = frame.locator("html").evaluate(
        "e => ({width: e.clientWidth, height: e.clientHeight,"
        " scrollWidth: e.scrollWidth, scrollHeight: e.scrollHeight,"
        " dir: getComputedStyle(document.body).direction})"
    )
    assert inner["dir"] == ("rtl" if lang == "ar" else "ltr")
    # No scrollbar: nothing reaches past the frame either way.
    assert inner["scrollHeight"] <= inner["height"], inner
    assert inner["scrollWidth"] <= inner["width"], inner
    # Every button, the call to action last of all, wholly inside the frame, and no
    # label cut short.
    boxes = frame.locator("a").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom, e.scrollWidth <= e.clientWidth]; })"
    )
    for left, top, right, bottom, whole in boxes:
        assert left >= 0 and right <= inner["width"], (boxes, inner)
        assert top >= 0 and bottom <= inner["height"], (boxes, inner)
        assert whole, boxes
    # The frame is as tall as the snippet says (20rem on the article's 16px root).
    assert page.locator("iframe").bounding_box()["height"] == 320
    context.close()


def test_a_host_not_allowed_cannot_frame_it(app, live_server, article, browser):
    app.config["SUPPORT_ALLOWED_HOSTS"] = ["news.example.org"]
    page, frame, context = framed(app, live_server, article, browser, 390, "en", "goal")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    assert frame.locator("a.c").count() == 0
    context.close()


def test_a_page_on_another_port_of_an_allowed_host_frames_it(app, live_server, article, browser):
    """The issue's case: an article at http://127.0.0.1:5201 and the like."""
    app.config["SUPPORT_ALLOWED_HOSTS"] = ["127.0.0.1"]
    assert article.origin.rsplit(":", 1)[1] not in ("80", "443")
    _page, frame, context = framed(app, live_server, article, browser, 390, "ar", "monthly")
    cta = frame.locator("a.c")
    assert cta.get_attribute("href").startswith(live_server.url + "/ar/?")
    assert cta.is_visible()
    context.close()
