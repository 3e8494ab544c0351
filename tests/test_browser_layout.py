"""The appeal on a phone (390 px) and a laptop (1280 px), in headless Chromium."""

import pytest

pytestmark = pytest.mark.browser

OTHER = 'input[name="amount"][value="other"]'


@pytest.fixture(params=[390, 1280], ids=["phone", "laptop"])
def sized(request, browser):
    """A page `request.param` pixels wide."""
    context = browser.new_context(viewport={"width": request.param, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page, request.param
    context.close()


def overflow(page) -> int:
    """How far the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_appeal_fits_and_continue_is_near(app, live_server, sized, lang):
    page, width = sized
    app.config["SUPPORT_GOAL"] = 1000
    page.goto(f"{live_server.url}/{lang}/")
    assert overflow(page) == 0
    if width == 390:
        # On a phone, "Continue" is reached with a short scroll, not ~1,300 px down.
        page.evaluate("document.fonts.ready")
        button = page.locator(".appeal-form button[type=submit]").bounding_box()
        assert button["y"] + button["height"] < 900
    # Every row of choices is full: no amount or frequency stranded on its own row.
    for group in ("amounts", "frequency"):
        boxes = page.locator(f".{group} .choice span").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().top)"
        )
        assert len(set(round(top) for top in boxes)) == 1, (group, boxes)
    # The goal bar is a bar, not a hairline.
    assert page.locator("#goal-progress").bounding_box()["height"] >= 12


def test_other_amount_shows_only_once_chosen(live_server, sized):
    page, _ = sized
    page.goto(f"{live_server.url}/en/")
    field = page.locator("#amount_other")
    assert not field.is_visible()
    page.locator(OTHER).check(force=True)
    assert field.is_visible()
    page.fill("#amount_other", "12")
    assert "Of $12," in page.inner_text("[data-fee-note]")
    page.locator('input[name="amount"][value="5"]').check(force=True)
    assert not field.is_visible()


def test_without_javascript_the_other_amount_still_shows(live_server, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/en/")
    assert page.locator("#amount_other").is_visible()
    context.close()


def test_the_fee_note_agrees_with_the_cover_box(live_server, sized):
    page, _ = sized
    page.goto(f"{live_server.url}/en/?amount=5")
    assert "we receive $4.55" in page.inner_text(".fee-note")
    page.locator("#cover_fees").check()
    note = page.inner_text(".fee-note")
    assert "Your card will be charged $5.46" in note and "all of your $5" in note
    assert "we receive $4.55" not in note
    page.locator(OTHER).check(force=True)
    page.fill("#amount_other", "10")
    assert "Your card will be charged $10.61" in page.inner_text(".fee-note")
    page.locator("#cover_fees").uncheck()
    assert "Of $10, the card processor keeps $0.59" in page.inner_text(".fee-note")


def test_arabic_amounts_typed_in_the_browser_read_like_the_server(app, live_server, sized):
    page, _ = sized
    app.config["SUPPORT_ARABIC_DIGITS"] = "arab"
    page.goto(f"{live_server.url}/ar/")
    page.locator(OTHER).check(force=True)
    page.fill("#amount_other", "١٢")
    assert "١٢ دولار أمريكي" in page.inner_text("[data-fee-note]")


def test_arabic_text_uses_our_own_webfont(live_server, browser):
    context = browser.new_context()
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{live_server.url}/ar/")
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px \"IBM Plex Sans Arabic\"', 'دعم')")
    fonts = [url for url in asked if url.endswith(".woff2")]
    assert fonts and all(url.startswith(live_server.url + "/static/fonts/") for url in fonts)
    assert all(url.startswith(live_server.url) for url in asked)  # no third-party request
    context.close()
