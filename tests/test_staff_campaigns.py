"""The staff campaign pages: roles, the editor's errors, saving, publishing, conflicts."""

from __future__ import annotations

import html
import json

import pytest

from support.campaigns import store
from support.extensions import db
from support.models import Campaign
from tests.factories import csrf, signed_in
from tests.helpers.campaigns import create, draft_document, form_data, saved, text


@pytest.mark.one_database
def test_anonymous_is_sent_to_the_login_form(client):
    for path in ("/staff/campaigns", "/staff/campaigns/new", "/staff/campaigns/x/preview"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/staff/login?next=")


def test_viewer_sees_campaigns_but_cannot_change_them(client):
    signed_in(client, "editor")
    assert create(client).status_code == 303
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    signed_in(client, "viewer")
    listing = text(client.get("/staff/campaigns"))
    assert "Winter appeal" in listing and "Campaigns" in listing
    assert "New campaign" not in listing and "Duplicate" not in listing
    page = client.get("/staff/campaigns/winter")
    assert page.status_code == 200
    assert "Keep the lights on this winter" in text(page)
    assert "Publish" not in text(page) and ">Save<" not in text(page)
    assert 'name="name" value="Winter appeal" maxlength="100" disabled' in text(page)
    assert client.get("/staff/campaigns/winter/preview").status_code == 200
    assert client.get("/staff/campaigns/winter/history").status_code == 200
    token = csrf(client, "/staff/campaigns")
    posts = {
        "/staff/campaigns/new": form_data(token, slug="other"),
        "/staff/campaigns/winter": form_data(token, name="Changed", base_version="1"),
        "/staff/campaigns/winter/publish": {"csrf_token": token, "base_version": "1"},
        "/staff/campaigns/winter/end": {"csrf_token": token, "base_version": "1"},
        "/staff/campaigns/winter/duplicate": {"csrf_token": token, "slug": "b", "name": "B"},
        "/staff/campaigns/winter/revert/1": {"csrf_token": token, "base_version": "1"},
    }
    for path, data in posts.items():
        assert client.post(path, data=data).status_code == 403, path
    assert client.get("/staff/campaigns/new").status_code == 403
    campaign = saved()
    assert campaign.name == "Winter appeal" and campaign.status == "draft"
    assert saved("other") is None


def test_errors_show_next_to_their_fields_and_keep_what_was_typed(client):
    signed_in(client, "editor")
    response = create(
        client,
        slug="Not A Slug",
        name="",
        **{
            "appeal.ar.headline": "عنوان " * 30,
            "banner.variants[1].weight": "lots",
            "presets.usd": "3, banana",
        },
    )
    assert response.status_code == 400
    page = text(response)
    assert "Nothing was saved" in page
    assert 'id="f-slug-error">must be lowercase letters' in page
    assert 'id="f-name-error">is required' in page
    assert 'id="f-appeal-ar-headline-error">must be at most 120 characters' in page
    assert 'id="f-banner-variants-1-weight-error">must be a number above 0' in page
    assert 'id="f-presets-usd-error">must be an amount between' in page
    # What was typed is still there, the long headline included.
    assert 'value="Not A Slug"' in page and 'value="3, banana"' in page
    assert html.escape("عنوان " * 30).strip() in page
    assert "Headline urgent" in page
    assert saved("Not A Slug") is None and db.session.query(Campaign).count() == 0


def test_errors_are_in_arabic_for_an_arabic_browser(client):
    signed_in(client, "editor")
    token = csrf(client, "/staff/campaigns/new")
    response = client.post(
        "/staff/campaigns/new",
        data=form_data(token, name="", **{"appeal.en.headline": "x" * 121}),
        headers={"Accept-Language": "ar"},
    )
    page = text(response)
    assert response.status_code == 400
    assert 'id="f-name-error">مطلوب' in page
    assert "يجب ألا يزيد على 120 حرفًا" in page
    assert "is required" not in page


def test_inputs_carry_limits_and_arabic_is_right_to_left(client):
    signed_in(client, "editor")
    page = text(client.get("/staff/campaigns/new"))
    assert 'name="appeal.en.headline" value="" maxlength="120" lang="en" dir="ltr"' in page
    assert 'name="appeal.ar.headline" value="" maxlength="120" lang="ar" dir="rtl"' in page
    assert 'name="banner.variants[1].cta.ar" value="" maxlength="40" lang="ar" dir="rtl"' in page
    assert 'name="appeal.ar.body" rows="6" maxlength="2000" lang="ar" dir="rtl"' in page


def test_too_long_headline_is_refused_and_the_limit_itself_accepted(client):
    signed_in(client, "editor")
    assert create(client, **{"appeal.en.headline": "h" * 121}).status_code == 400
    assert saved() is None
    assert create(client, **{"appeal.en.headline": "h" * 120}).status_code == 303
    assert store.document(saved())["appeal"]["en"]["headline"] == "h" * 120


def test_add_a_variant_shows_one_more_slot_without_saving(client):
    signed_in(client, "editor")
    response = create(client, action="add_variant")
    page = text(response)
    assert response.status_code == 200
    assert 'name="banner.variants[2].name"' in page and 'name="slots" value="3"' in page
    assert "Headline calm" in page
    assert saved() is None


def test_preview_shows_a_draft_in_both_languages_without_counting(client):
    signed_in(client, "viewer")
    store.create(json.loads(json.dumps(draft_document())), "someone@example.org")
    db.session.commit()
    page = text(client.get("/staff/campaigns/winter/preview"))
    # Each variant at a phone's width and a desktop's, in both languages.
    assert "data-preview async" in page and page.count("data-support-banner") == 8
    assert page.count('class="banner-phone"') == 4
    # The appeal frames run scripts in an origin of their own, never with both tokens.
    assert page.count('sandbox="allow-scripts"') == 4 and "allow-same-origin" not in page
    assert "Readers do not see it now: it is draft." in page
    appeal = client.get("/staff/campaigns/winter/preview/ar/")
    assert "أبقوا الأضواء" in text(appeal) and 'dir="rtl"' in text(appeal)
    assert "frame-ancestors 'self'" in appeal.headers["Content-Security-Policy"]
    assert client.get("/staff/campaigns/winter/preview/fr/").status_code == 404
