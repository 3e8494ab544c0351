"""An editor sets up a campaign in Chromium, in English and in Arabic; two editors collide."""

from __future__ import annotations

import pytest

from support.campaigns import store
from support.extensions import db
from tests.factories import PASSWORD, staff
from tests.helpers.campaigns import draft_document

COPY = {
    "name": "Ramadan appeal",
    "appeal.en.headline": "Stand with us this Ramadan",
    "appeal.en.body": "Independent reporting needs you.",
    "appeal.ar.headline": "كونوا معنا في رمضان",
    "appeal.ar.body": "الصحافة المستقلة تحتاج إليكم.",
    "presets.usd": "4, 8, 16",
}
VARIANTS = [
    ("quiet", "A quiet word", "كلمة هادئة", "Join us", "انضموا إلينا"),
    ("loud", "A loud call", "نداء عالٍ", "Give now", "تبرعوا الآن"),
]


def signed_in_page(browser, live_server, email: str, locale: str):
    """A new browser context for `locale`, signed in as `email`."""
    context = browser.new_context(locale=locale, extra_http_headers={"Accept-Language": locale})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/staff/login")
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form button[type="submit"]').click()
    page.wait_for_url("**/staff/")
    return context, page


def direction(page, name: str) -> str:
    return page.locator(f'[name="{name}"]').evaluate("e => getComputedStyle(e).direction")


@pytest.mark.parametrize("locale", ["en-US", "ar"])
def test_editor_creates_previews_and_publishes(live_server, browser, locale):
    staff("editor@example.org", "editor")
    context, page = signed_in_page(browser, live_server, "editor@example.org", locale)
    beacons = []
    page.on("request", lambda r: beacons.append(r.url) if "/embed/events" in r.url else None)

    page.goto(live_server.url + "/staff/campaigns")
    page.locator('a[href="/staff/campaigns/new"]').click()
    page.wait_for_url("**/staff/campaigns/new")
    assert page.locator("html").get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")
    page.locator('[name="slug"]').fill("ramadan")
    for name, value in COPY.items():
        page.locator(f'[name="{name}"]').fill(value)
    for slot, (name, head_en, head_ar, cta_en, cta_ar) in enumerate(VARIANTS):
        prefix = f"banner.variants[{slot}]"
        fields = {
            "name": name,
            "headline.en": head_en,
            "headline.ar": head_ar,
            "text.en": f"{head_en}, in words",
            "text.ar": f"{head_ar} بالكلمات",
            "cta.en": cta_en,
            "cta.ar": cta_ar,
        }
        for key, value in fields.items():
            page.locator(f'[name="{prefix}.{key}"]').fill(value)
    # Arabic copy is typed right to left, English left to right, whatever the page's language.
    assert direction(page, "appeal.ar.headline") == "rtl"
    assert direction(page, "banner.variants[1].cta.ar") == "rtl"
    assert direction(page, "appeal.ar.body") == "rtl"
    assert direction(page, "appeal.en.headline") == "ltr"
    page.locator(".campaign-form button.primary").click()
    page.wait_for_url("**/staff/campaigns/ramadan")

    page.locator('a[href="/staff/campaigns/ramadan/preview"]').first.click()
    page.wait_for_url("**/preview")
    english = page.locator('.banner-desktop [data-support-banner][data-lang="en"]')
    arabic = page.locator('.banner-desktop [data-support-banner][data-lang="ar"]')
    assert english.locator("h2").all_inner_texts() == ["A quiet word", "A loud call"]
    assert arabic.locator("h2").all_inner_texts() == ["كلمة هادئة", "نداء عالٍ"]
    assert arabic.first.locator("section").get_attribute("dir") == "rtl"
    assert english.nth(1).locator("a.c").inner_text() == "Give now"
    assert arabic.nth(0).locator("a.c").inner_text() == "انضموا إلينا"
    assert english.first.locator("p.a a").first.inner_text() == "$4 a month"
    frames = page.frame_locator("iframe.appeal-preview.phone")
    assert frames.nth(0).locator("h1").inner_text() == "Stand with us this Ramadan"
    assert frames.nth(1).locator("h1").inner_text() == "كونوا معنا في رمضان"
    page.wait_for_timeout(300)
    assert beacons == []  # the preview counts nothing
    assert page.evaluate("localStorage.getItem('supportBanner')") is None

    page.locator('a[href="/staff/campaigns/ramadan"]').first.click()
    page.locator('form[action$="/ramadan/publish"] button').click()
    page.wait_for_url("**/staff/campaigns/ramadan")
    assert page.locator('a[href$="/ramadan/end"]').is_visible()

    reader = context.new_page()
    reader.goto(live_server.url + "/ar/?campaign=ramadan")
    assert reader.locator("h1").inner_text() == "كونوا معنا في رمضان"
    reader.goto(live_server.url + "/en/?campaign=ramadan")
    assert reader.locator("h1").inner_text() == "Stand with us this Ramadan"
    assert "$16" in reader.locator(".amounts").inner_text()
    context.close()


def test_two_editors_saving_the_same_campaign(live_server, browser):
    """Different fields are merged and the editor is told; the same field is chosen."""
    staff("first@example.org", "editor")
    staff("second@example.org", "editor")
    store.create(draft_document(), "first@example.org")
    db.session.commit()
    first_context, first = signed_in_page(browser, live_server, "first@example.org", "en-US")
    second_context, second = signed_in_page(browser, live_server, "second@example.org", "ar")
    for page in (first, second):
        page.goto(live_server.url + "/staff/campaigns/winter")

    first.locator('[name="appeal.en.headline"]').fill("The first editor's headline")
    first.locator(".campaign-form button.primary").click()
    first.wait_for_url("**/staff/campaigns/winter")
    assert "Saved: version 2." in first.locator(".notice").inner_text()

    second.locator('[name="name"]').fill("اسم الثاني")
    second.locator(".campaign-form button.primary").click()
    second.wait_for_url("**/staff/campaigns/winter")
    notice = second.locator(".notice").first.inner_text()
    assert "عنوان صفحة الدعوة (الإنجليزية)" in notice  # their change, named
    assert "3" in notice
    # Both saves are in the editor, and saved.
    assert second.locator('[name="name"]').input_value() == "اسم الثاني"
    assert (
        second.locator('[name="appeal.en.headline"]').input_value() == "The first editor's headline"
    )
    db.session.expire_all()
    campaign = store.get("winter")
    assert campaign.name == "اسم الثاني" and campaign.version == 3

    # Now both change the Arabic headline, from version 3.
    first.goto(live_server.url + "/staff/campaigns/winter")
    first.locator('[name="appeal.ar.headline"]').fill("عنوان الأول")
    first.locator(".campaign-form button.primary").click()
    first.wait_for_url("**/staff/campaigns/winter")
    second.locator('[name="appeal.ar.headline"]').fill("عنوان الثاني")
    second.locator('[name="appeal.en.body"]').fill("The second editor's body.")
    second.locator(".campaign-form button.primary").click()
    conflict = second.locator("fieldset.conflict")
    assert conflict.count() == 1
    sides = conflict.locator(".conflict-side .value").all_inner_texts()
    assert sides == ["عنوان الأول", "عنوان الثاني"]  # theirs and mine, side by side
    boxes = [b.bounding_box() for b in conflict.locator(".conflict-side").all()]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 2  # on one row at this width
    conflict.locator('input[value="theirs"]').check()
    second.locator(".conflict-form button.primary").click()
    second.wait_for_url("**/staff/campaigns/winter")
    assert second.locator('[name="appeal.ar.headline"]').input_value() == "عنوان الأول"
    assert second.locator('[name="appeal.en.body"]').input_value() == "The second editor's body."
    first_context.close()
    second_context.close()


def test_a_running_campaign_is_drafted_previewed_then_published(live_server, browser):
    staff("editor@example.org", "editor")
    store.set_status(store.create(draft_document(), "editor@example.org"), "live", 1, None)
    db.session.commit()
    context, page = signed_in_page(browser, live_server, "editor@example.org", "en-US")
    reader = context.new_page()
    page.goto(live_server.url + "/staff/campaigns/winter")
    page.locator('[name="appeal.en.headline"]').fill("A headline still in draft")
    page.locator('[name="appeal.ar.headline"]').fill("عنوان ما زال مسودة")
    page.locator(".campaign-form button.primary").click()
    page.wait_for_url("**/staff/campaigns/winter")
    assert "draft of the next version" in page.locator(".notice").inner_text()
    reader.goto(live_server.url + "/en/?campaign=winter")
    assert reader.locator("h1").inner_text() == "Keep the lights on"

    page.locator('a.button[href$="/winter/preview"]').click()
    page.wait_for_url("**/winter/preview")
    for width, size in (("phone", 390), ("desktop", 1280)):
        frames = page.locator(f"iframe.appeal-preview.{width}")
        assert frames.count() == 2
        assert frames.first.evaluate("f => f.clientWidth") == size
        assert "allow-same-origin" not in frames.first.get_attribute("sandbox")
        inside = page.frame_locator(f"iframe.appeal-preview.{width}")
        assert inside.nth(0).locator("h1").inner_text() == "A headline still in draft"
        assert inside.nth(1).locator("h1").inner_text() == "عنوان ما زال مسودة"
        # In its own origin the framed page still gets the Arabic font (fonts allow CORS).
        arabic = next(f for f in page.frames if f.url.endswith("/preview/ar/"))
        arabic.wait_for_function("document.fonts.status == 'loaded'")
        assert arabic.evaluate(
            "[...document.fonts].some(f => f.family.includes('Arabic') && f.status == 'loaded')"
        )
    phone_banner = page.locator('.banner-phone [data-support-banner][data-lang="ar"]').first
    assert phone_banner.locator("h2").inner_text() == "مرحبا"
    assert phone_banner.bounding_box()["width"] <= 390
    page.locator("form.campaign-actions button.primary").click()
    page.wait_for_url("**/staff/campaigns/winter")
    assert "Published version 4" in page.locator(".notice").inner_text()
    reader.goto(live_server.url + "/en/?campaign=winter")
    assert reader.locator("h1").inner_text() == "A headline still in draft"

    page.locator('a[href$="/winter/end"]').click()
    page.wait_for_url("**/winter/end")
    assert "the default campaign (from the settings)" in page.locator("main").inner_text()
    context.close()


@pytest.mark.parametrize("locale", ["en-US", "ar"])
def test_the_editor_layout_leaves_room(live_server, browser, locale):
    """Inputs stand inside their panels, section titles inside the border, headlines wide."""
    staff("editor@example.org", "editor")
    store.create(draft_document(), "editor@example.org")
    db.session.commit()
    context, page = signed_in_page(browser, live_server, "editor@example.org", locale)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/staff/campaigns/winter")
    panels = page.locator(".campaign-form > fieldset")
    for index in range(panels.count()):
        panel = panels.nth(index)
        box = panel.bounding_box()
        legend = panel.locator(":scope > legend").bounding_box()
        assert legend["y"] >= box["y"] + 4, index  # not straddling the top edge
        for field in panel.locator("input[type=text], textarea, select").all():
            inner = field.bounding_box()
            if inner is None or not field.is_visible():
                continue
            assert inner["x"] >= box["x"] + 8, index
            assert inner["x"] + inner["width"] <= box["x"] + box["width"] - 8, index
    headline = page.locator('[name="appeal.en.headline"]')
    width = headline.bounding_box()["width"]
    # 120 characters of this font fit (about 0.5 em each).
    char = headline.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") * 0.5
    assert width >= 100 * char, width
    context.close()
