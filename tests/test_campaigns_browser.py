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
    english = page.locator('[data-support-banner][data-lang="en"]')
    arabic = page.locator('[data-support-banner][data-lang="ar"]')
    assert english.locator("h2").all_inner_texts() == ["A quiet word", "A loud call"]
    assert arabic.locator("h2").all_inner_texts() == ["كلمة هادئة", "نداء عالٍ"]
    assert arabic.first.locator("section").get_attribute("dir") == "rtl"
    assert english.nth(1).locator("a.c").inner_text() == "Give now"
    assert arabic.nth(0).locator("a.c").inner_text() == "انضموا إلينا"
    assert english.first.locator("p.a a").first.inner_text() == "$4 a month"
    frames = page.frame_locator("iframe.appeal-preview")
    assert frames.nth(0).locator("h1").inner_text() == "Stand with us this Ramadan"
    assert frames.nth(1).locator("h1").inner_text() == "كونوا معنا في رمضان"
    page.wait_for_timeout(300)
    assert beacons == []  # the preview counts nothing
    assert page.evaluate("localStorage.getItem('supportBanner')") is None

    page.locator('a[href="/staff/campaigns/ramadan"]').first.click()
    page.locator('form[action$="/ramadan/publish"] button').click()
    page.wait_for_url("**/staff/campaigns/ramadan")
    assert page.locator('form[action$="/ramadan/end"]').is_visible()

    reader = context.new_page()
    reader.goto(live_server.url + "/ar/?campaign=ramadan")
    assert reader.locator("h1").inner_text() == "كونوا معنا في رمضان"
    reader.goto(live_server.url + "/en/?campaign=ramadan")
    assert reader.locator("h1").inner_text() == "Stand with us this Ramadan"
    assert "$16" in reader.locator(".amounts").inner_text()
    context.close()


def test_two_editors_saving_the_same_campaign(live_server, browser):
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
    alert = second.locator(".error-summary")
    assert "first@example.org" in alert.inner_text()
    assert "عنوان صفحة الدعوة (الإنجليزية)" in alert.inner_text()
    # What the second editor typed is still there, not saved.
    assert second.locator('[name="name"]').input_value() == "اسم الثاني"
    db.session.expire_all()
    campaign = store.get("winter")
    assert campaign.name == "Winter appeal" and campaign.version == 2

    alert.locator("a").click()
    assert (
        second.locator('[name="appeal.en.headline"]').input_value() == "The first editor's headline"
    )
    assert second.locator('[name="name"]').input_value() == "Winter appeal"
    first_context.close()
    second_context.close()
