"""Staff campaign actions: publish, end, schedule, conflicts, duplicate, revert, escaping."""

from __future__ import annotations

import html
import json

import pytest

from support.campaigns import store
from support.extensions import db
from support.models import CampaignRevision
from tests.factories import csrf, signed_in
from tests.helpers.campaigns import HOSTILE, create, form_data, saved, text


def test_create_edit_publish_end_happy_path(client):
    signed_in(client, "editor")
    created = create(client)
    assert created.status_code == 303 and created.headers["Location"] == "/staff/campaigns/winter"
    assert "created as a draft" in text(client.get("/staff/campaigns/winter"))
    doc = store.document(saved())
    assert doc["presets"] == {"usd": [3, 7, 12]} and doc["default_frequency"] == "year"
    assert [v["name"] for v in doc["banner"]["variants"]] == ["calm", "urgent"]
    assert doc["goal"] == {"supporters": 500}
    # A draft is not shown to readers.
    assert "Keep the lights on" not in text(client.get("/en/?campaign=winter"))

    token = csrf(client, "/staff/campaigns/winter")
    same = client.post("/staff/campaigns/winter", data=form_data(token, base_version="1"))
    assert "Nothing changed: still version 1." in text(client.get(same.headers["Location"]))
    assert saved().version == 1
    edited = client.post(
        "/staff/campaigns/winter",
        data=form_data(
            token,
            base_version="1",
            **{"appeal.en.headline": "Winter is here", "banner.variants[1].remove": "y"},
        ),
    )
    assert edited.status_code == 303
    assert "Saved: version 2." in text(client.get("/staff/campaigns/winter"))
    doc = store.document(saved())
    assert doc["appeal"]["en"]["headline"] == "Winter is here"
    assert [v["name"] for v in doc["banner"]["variants"]] == ["calm"]

    published = client.post(
        "/staff/campaigns/winter/publish", data={"csrf_token": token, "base_version": "2"}
    )
    assert published.status_code == 303 and saved().status == "live"
    listing = text(client.get("/staff/campaigns"))
    assert "running" in listing and "editor@example.org" in listing
    assert "Winter is here" in text(client.get("/en/?campaign=winter"))
    assert "أبقوا الأضواء مضاءة هذا الشتاء" in text(client.get("/ar/?campaign=winter"))
    banner = client.get("/embed/banner.json?lang=en").json
    assert [c["slug"] for c in banner["campaigns"]] == ["winter"]

    ended = client.post(
        "/staff/campaigns/winter/end", data={"csrf_token": token, "base_version": "3"}
    )
    assert ended.status_code == 303 and saved().status == "ended"
    assert "Winter is here" not in text(client.get("/en/?campaign=winter"))
    assert "ended" in text(client.get("/staff/campaigns"))


def test_publishing_an_incomplete_campaign_says_what_is_missing(client):
    signed_in(client, "editor")
    create(client, **{"appeal.ar.body": "", "banner.variants[0].cta.ar": ""})
    token = csrf(client, "/staff/campaigns/winter")
    response = client.post(
        "/staff/campaigns/winter/publish", data={"csrf_token": token, "base_version": "1"}
    )
    page = text(response)
    assert response.status_code == 400 and "Not published" in page
    assert 'id="f-appeal-ar-body-error">is required' in page
    assert 'id="f-banner-variants-0-cta-ar-error">is required' in page
    assert saved().status == "draft"


def test_a_scheduled_campaign_is_listed_as_scheduled(client):
    signed_in(client, "editor")
    create(client, starts_at="2999-01-01T09:00")
    token = csrf(client, "/staff/campaigns/winter")
    client.post("/staff/campaigns/winter/publish", data={"csrf_token": token, "base_version": "1"})
    assert saved().starts_at.isoformat() == "2999-01-01T09:00:00+00:00"
    assert "scheduled" in text(client.get("/staff/campaigns"))
    assert 'value="2999-01-01T09:00"' in text(client.get("/staff/campaigns/winter"))


def test_second_save_on_the_same_version_touching_other_fields_is_merged(client):
    signed_in(client, "editor")
    create(client)
    token = csrf(client, "/staff/campaigns/winter")
    first = client.post(
        "/staff/campaigns/winter",
        data=form_data(token, base_version="1", **{"appeal.en.headline": "Mine first"}),
    )
    assert first.status_code == 303
    second = client.post(
        "/staff/campaigns/winter",
        data=form_data(token, base_version="1", name="Theirs", **{"appeal.ar.body": "نص آخر"}),
    )
    assert second.status_code == 303
    page = text(client.get(second.headers["Location"]))
    assert "Merged with the changes saved meanwhile: yours (Appeal text (Arabic), Name)" in page
    assert "theirs (Appeal headline (English)) are both in version 3." in page
    campaign = saved()
    doc = store.document(campaign)
    assert campaign.version == 3 and campaign.name == "Theirs"
    assert doc["appeal"]["en"]["headline"] == "Mine first"
    assert doc["appeal"]["ar"]["body"] == "نص آخر"


def test_second_save_of_the_same_field_asks_which_value_to_keep(client):
    signed_in(client, "editor")
    create(client)
    token = csrf(client, "/staff/campaigns/winter")
    client.post(
        "/staff/campaigns/winter",
        data=form_data(token, base_version="1", name="First name", **{"presets.usd": "2, 4"}),
    )
    second = client.post(
        "/staff/campaigns/winter",
        data=form_data(
            token,
            base_version="1",
            name="Second name",
            **{"presets.usd": "5, 9", "appeal.ar.body": "نص آخر"},
        ),
    )
    page = text(second)
    assert second.status_code == 409
    assert "editor@example.org saved this campaign at" in page
    # Both values side by side, per field; the untouched change is kept without a question.
    assert page.count('class="conflict"') == 2
    assert "First name" in page and "Second name" in page
    assert "2, 4" in page and "5, 9" in page
    assert "Your other changes are kept as well: Appeal text (Arabic)." in page
    assert saved().version == 2  # nothing saved yet
    mine = html.unescape(page.split('name="mine" value="', 1)[1].split('"', 1)[0])
    chosen = client.post(
        "/staff/campaigns/winter/merge",
        data={
            "csrf_token": token,
            "mine": mine,
            "mine_base": "1",
            "choice:name": "theirs",
            "choice:presets.usd": "mine",
        },
    )
    assert chosen.status_code == 303
    campaign = saved()
    doc = store.document(campaign)
    assert campaign.version == 3 and campaign.name == "First name"
    assert doc["presets"] == {"usd": [5, 9]} and doc["appeal"]["ar"]["body"] == "نص آخر"
    # The form cannot rename the campaign or change its status.
    renamed = json.dumps({**json.loads(mine), "slug": "elsewhere", "status": "live"})
    client.post(
        "/staff/campaigns/winter/merge",
        data={"csrf_token": token, "mine": renamed, "mine_base": "3"},
    )
    assert saved("elsewhere") is None and saved().status == "draft"


def test_a_mangled_merge_form_is_refused(client):
    signed_in(client, "editor")
    create(client)
    token = csrf(client, "/staff/campaigns/winter")
    for data in (
        {"mine": "{not json", "mine_base": "1"},
        {"mine": "[]", "mine_base": "1"},
        {"mine": "{}", "mine_base": "x"},
        {"mine": "{}", "mine_base": "99"},
        {"mine": json.dumps({"slug": "winter", "name": ""}), "mine_base": "1"},
    ):
        response = client.post("/staff/campaigns/winter/merge", data={"csrf_token": token, **data})
        assert response.status_code == 400, data
    assert saved().version == 1


def test_duplicate_a_campaign_and_the_default(client):
    signed_in(client, "editor")
    create(client)
    token = csrf(client, "/staff/campaigns/winter/duplicate")
    taken = client.post(
        "/staff/campaigns/winter/duplicate",
        data={"csrf_token": token, "slug": "winter", "name": "Again"},
    )
    assert taken.status_code == 400 and "is already used by another campaign" in text(taken)
    copied = client.post(
        "/staff/campaigns/winter/duplicate",
        data={"csrf_token": token, "slug": "spring", "name": "Spring appeal"},
    )
    assert copied.status_code == 303
    spring = store.document(saved("spring"))
    assert spring["status"] == "draft" and spring["appeal"]["en"]["headline"].startswith("Keep")
    from_default = client.post(
        "/staff/campaigns/banner/duplicate",
        data={"csrf_token": token, "slug": "from-default", "name": "From the settings"},
    )
    assert from_default.status_code == 303
    variants = store.document(saved("from-default"))["banner"]["variants"]
    assert [v["name"] for v in variants] == ["monthly", "goal"]
    assert "Duplicate" in text(client.get("/staff/campaigns"))


def test_history_lists_every_change_and_revert_goes_back(client):
    signed_in(client, "editor")
    create(client)
    token = csrf(client, "/staff/campaigns/winter")
    client.post(
        "/staff/campaigns/winter",
        data=form_data(token, base_version="1", **{"appeal.en.headline": "A new headline"}),
    )
    history = text(client.get("/staff/campaigns/winter/history"))
    assert "created" in history and "edited" in history
    assert "Appeal headline (English)" in history and "editor@example.org" in history
    confirm = client.get("/staff/campaigns/winter/revert/1")
    assert "Yes, go back to version 1" in text(confirm)
    reverted = client.post(
        "/staff/campaigns/winter/revert/1", data={"csrf_token": token, "base_version": "2"}
    )
    assert reverted.status_code == 303
    campaign = saved()
    assert campaign.version == 3
    assert store.document(campaign)["appeal"]["en"]["headline"] == "Keep the lights on this winter"
    assert "Version 1 restored as version 3." in text(client.get(reverted.headers["Location"]))
    actions = [r.action for r in db.session.query(CampaignRevision).order_by("version")]
    assert actions == ["created", "edited", "reverted"]


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_hostile_copy_is_shown_as_text_everywhere(client, lang):
    signed_in(client, "editor")
    create(
        client,
        name=HOSTILE,
        **{f"appeal.{lang}.headline": HOSTILE, f"banner.variants[0].headline.{lang}": HOSTILE},
    )
    token = csrf(client, "/staff/campaigns/winter")
    client.post("/staff/campaigns/winter/publish", data={"csrf_token": token, "base_version": "1"})
    pages = {
        "list": "/staff/campaigns",
        "form": "/staff/campaigns/winter",
        "appeal preview": f"/staff/campaigns/winter/preview/{lang}/",
        "appeal": f"/{lang}/?campaign=winter",
    }
    for what, path in pages.items():
        page = text(client.get(path))
        assert HOSTILE not in page, what
        assert "&lt;script&gt;alert(" in page, what
    preview = text(client.get("/staff/campaigns/winter/preview"))
    assert HOSTILE not in preview
    contents = [
        json.loads(html.unescape(part.split('"', 1)[0]))
        for part in preview.split('data-content="')[1:]
    ]
    headlines = [c["campaigns"][0]["variants"][0]["headline"] for c in contents]
    assert HOSTILE in headlines  # banner.js sets it as text (esc), as for readers
