"""Editing a running campaign: a draft of the next version, previewed, then published.

Readers keep seeing the published version until an editor publishes the draft;
ending asks first and says what readers get instead.
"""

from __future__ import annotations

import sqlalchemy as sa

from support.campaigns import store
from support.extensions import db
from support.models import CampaignRevision, StaffAction
from tests.factories import csrf, signed_in
from tests.helpers.campaigns import create, form_data, saved, text


def running(client) -> str:
    """`winter`, created and published (version 2); a CSRF token."""
    signed_in(client, "editor")
    create(client)
    token = csrf(client, "/staff/campaigns/winter")
    published = client.post(
        "/staff/campaigns/winter/publish", data={"csrf_token": token, "base_version": "1"}
    )
    assert published.status_code == 303 and saved().status == "live"
    return token


def reader_headline(client, lang: str = "en") -> str:
    banner = client.get(f"/embed/banner.json?lang={lang}").json
    page = text(client.get(f"/{lang}/?campaign=winter"))
    return banner["campaigns"][0]["variants"][0]["headline"], page


def test_saving_a_running_campaign_keeps_readers_on_the_published_version(client):
    token = running(client)
    saved_form = client.post(
        "/staff/campaigns/winter",
        data=form_data(
            token,
            base_version="2",
            **{"appeal.en.headline": "A draft headline", "banner.variants[0].headline.en": "New"},
        ),
    )
    assert saved_form.status_code == 303
    editor = text(client.get("/staff/campaigns/winter"))
    assert "Saved as a draft of the next version (version 3)" in editor
    assert "You are editing a draft of the next version." in editor
    assert 'value="A draft headline"' in editor  # the editor works on the draft
    assert "Publish the draft" in editor and "Discard the draft" in editor
    assert "unpublished changes" in text(client.get("/staff/campaigns"))
    # Readers: the published version, on the appeal and in the banner.
    headline, page = reader_headline(client)
    assert headline == "Headline calm" and "Keep the lights on this winter" in page
    assert "A draft headline" not in page
    campaign = saved()
    assert campaign.status == "live" and campaign.version == 3
    assert store.document(campaign)["appeal"]["en"]["headline"] == "Keep the lights on this winter"

    preview = text(client.get("/staff/campaigns/winter/preview"))
    assert "The draft of the next version (version 3)" in preview
    assert "Publish this version" in preview
    assert "A draft headline" in text(client.get("/staff/campaigns/winter/preview/en/"))

    published = client.post(
        "/staff/campaigns/winter/publish", data={"csrf_token": token, "base_version": "3"}
    )
    assert published.status_code == 303
    assert "Published version 4" in text(client.get(published.headers["Location"]))
    headline, page = reader_headline(client)
    assert headline == "New" and "A draft headline" in page
    campaign = saved()
    assert campaign.draft is None and campaign.version == 4
    assert "unpublished changes" not in text(client.get("/staff/campaigns"))
    actions = [r.action for r in db.session.query(CampaignRevision).order_by("version")]
    assert actions == ["created", "published", "drafted", "published"]
    publishing = db.session.scalars(
        sa.select(StaffAction).where(StaffAction.action == "campaign_publish")
    ).all()
    assert [a.detail for a in publishing] == ["2", "4"]
    history = text(client.get("/staff/campaigns/winter/history"))
    assert "draft saved" in history and "Appeal headline (English)" in history


def test_a_draft_can_be_discarded_and_typing_back_leaves_no_draft(client):
    token = running(client)
    client.post(
        "/staff/campaigns/winter",
        data=form_data(token, base_version="2", **{"appeal.en.headline": "Second thoughts"}),
    )
    assert saved().draft is not None
    discarded = client.post(
        "/staff/campaigns/winter/discard", data={"csrf_token": token, "base_version": "3"}
    )
    assert discarded.status_code == 303
    editor = text(client.get("/staff/campaigns/winter"))
    assert "Draft discarded" in editor and 'value="Keep the lights on this winter"' in editor
    assert saved().draft is None and "Publish the draft" not in editor

    client.post(
        "/staff/campaigns/winter",
        data=form_data(token, base_version="4", **{"appeal.en.headline": "Again"}),
    )
    client.post("/staff/campaigns/winter", data=form_data(token, base_version="5"))
    assert saved().draft is None  # the same as readers see: nothing to publish
    # Publishing without a draft changes nothing and says so.
    again = client.post(
        "/staff/campaigns/winter/publish", data={"csrf_token": token, "base_version": "6"}
    )
    assert "Nothing changed: still version 6." in text(client.get(again.headers["Location"]))


def test_going_back_on_a_running_campaign_is_a_draft_too(client):
    token = running(client)
    client.post(
        "/staff/campaigns/winter",
        data=form_data(token, base_version="2", **{"appeal.en.headline": "Later"}),
    )
    client.post("/staff/campaigns/winter/publish", data={"csrf_token": token, "base_version": "3"})
    confirm = text(client.get("/staff/campaigns/winter/revert/1"))
    assert "the old copy becomes a draft of the next version" in confirm
    client.post("/staff/campaigns/winter/revert/1", data={"csrf_token": token, "base_version": "4"})
    campaign = saved()
    assert store.document(campaign)["appeal"]["en"]["headline"] == "Later"
    assert store.editing(campaign)["appeal"]["en"]["headline"] == "Keep the lights on this winter"
    assert "Later" in reader_headline(client)[1]


def test_ending_asks_first_and_says_what_readers_see_instead(client):
    token = running(client)
    editor = text(client.get("/staff/campaigns/winter"))
    assert 'href="/staff/campaigns/winter/end"' in editor
    assert 'action="/staff/campaigns/winter/end"' not in editor  # no one-click end
    confirm = text(client.get("/staff/campaigns/winter/end"))
    assert "the default campaign (from the settings)" in confirm
    assert "Yes, end the campaign" in confirm

    create(client, slug="spring", name="Spring appeal")
    client.post("/staff/campaigns/spring/publish", data={"csrf_token": token, "base_version": "1"})
    confirm = text(client.get("/staff/campaigns/winter/end"))
    assert confirm.count("the running campaign “Spring appeal”") == 2  # both languages
    assert saved().status == "live"

    ended = client.post(
        "/staff/campaigns/winter/end", data={"csrf_token": token, "base_version": "2"}
    )
    assert ended.status_code == 303 and saved().status == "ended"
    assert client.get("/staff/campaigns/winter/end").status_code == 302  # nothing to end


def test_viewers_cannot_publish_discard_or_end(client):
    running(client)
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    signed_in(client, "viewer")
    token = csrf(client, "/staff/")
    for path in ("publish", "discard", "end"):
        response = client.post(
            f"/staff/campaigns/winter/{path}", data={"csrf_token": token, "base_version": "2"}
        )
        assert response.status_code == 403, path
    assert client.get("/staff/campaigns/winter/end").status_code == 403
    assert "Publish this version" not in text(client.get("/staff/campaigns/winter/preview"))


def test_importing_a_running_campaign_publishes_the_file(client):
    token = running(client)
    client.post(
        "/staff/campaigns/winter",
        data=form_data(token, base_version="2", **{"appeal.en.headline": "From the editor"}),
    )
    # The file says what the draft says: it is the reviewed copy, and goes live.
    file = store.editing(saved())
    assert store.import_documents([file], None) == [("winter", "updated")]
    db.session.commit()
    campaign = saved()
    assert campaign.draft is None
    assert store.document(campaign)["appeal"]["en"]["headline"] == "From the editor"
    assert "From the editor" in reader_headline(client)[1]
    # Exported: what readers get.
    assert store.document(campaign) == store.editing(campaign)
