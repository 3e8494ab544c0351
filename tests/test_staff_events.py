"""The webhook inbox: failed first, filters, payload shown safely, replay for admins."""

from __future__ import annotations

import pytest

from support.extensions import db
from support.models import StripeEvent
from tests.factories import ago, csrf, event, signed_in


@pytest.fixture
def inbox(app):
    """Three events: an old failed one, a processed invoice, a newer ignored one."""
    event("invoice.payment_failed", "failed", id="evt_failed", received_at=ago(3),
          attempts=3, last_error="LedgerError: no such subscription")  # fmt: skip
    event("invoice.paid", "processed", id="evt_paid", received_at=ago(1),
          data={"object": {"description": "<img src=x onerror=alert(1)>"}})  # fmt: skip
    event("product.created", "ignored", id="evt_newest", received_at=ago(0.5))
    db.session.commit()


def test_failed_events_come_first_and_the_last_arrival_is_shown(client, inbox):
    signed_in(client)
    page = client.get("/staff/events?status=all").get_data(as_text=True)
    assert page.index("evt_failed") < page.index("evt_newest") < page.index("evt_paid")
    assert "LedgerError: no such subscription" in page
    assert "Last event received" in page and ago(0.5).strftime("%Y-%m-%d %H:%M") in page
    assert "1 failed" in page


def test_ignored_events_are_hidden_unless_asked_for(client, inbox):
    signed_in(client)
    page = client.get("/staff/events").get_data(as_text=True)
    assert "evt_failed" in page and "evt_paid" in page
    assert "evt_newest" not in page  # ignored: hidden by default
    assert "ignored ones hidden" in page and 'href="/staff/events?status=ignored"' in page
    # The last arrival is still said, even when it is an ignored event.
    assert ago(0.5).strftime("%Y-%m-%d %H:%M") in page
    ignored = client.get("/staff/events?status=ignored").get_data(as_text=True)
    assert "evt_newest" in ignored and "evt_paid" not in ignored
    everything = client.get("/staff/events?status=all").get_data(as_text=True)
    assert all(e in everything for e in ("evt_failed", "evt_paid", "evt_newest"))
    assert '<option value="all" selected>' in everything
    by_type = client.get("/staff/events?type=product.created").get_data(as_text=True)
    assert "evt_newest" not in by_type and "No event matches" in by_type


def test_payload_is_shown_escaped(client, inbox):
    signed_in(client)
    page = client.get("/staff/events").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_filter_by_type_and_status(client, inbox):
    signed_in(client)
    by_type = client.get("/staff/events?type=invoice.paid").get_data(as_text=True)
    assert "evt_paid" in by_type and "evt_failed" not in by_type and "evt_newest" not in by_type
    by_status = client.get("/staff/events?status=ignored").get_data(as_text=True)
    assert "evt_newest" in by_status and "evt_paid" not in by_status
    assert client.get("/staff/events?status=bogus&page=x").status_code == 200


def test_an_empty_inbox_says_so(client, app):
    signed_in(client)
    assert "No event has been received yet" in client.get("/staff/events").get_data(as_text=True)


def test_admin_replays_an_event(client, inbox):
    signed_in(client, "admin")
    page = client.get("/staff/events").get_data(as_text=True)
    assert "Replay" in page
    response = client.post(
        "/staff/events/evt_newest/replay",
        data={"csrf_token": csrf(client, "/staff/events")},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Replayed evt_newest" in response.get_data(as_text=True)
    db.session.expire_all()
    replayed = db.session.get(StripeEvent, "evt_newest")
    assert replayed.status == "ignored" and replayed.attempts >= 1


def test_replay_needs_csrf_and_a_known_event(client, inbox):
    signed_in(client, "admin")
    assert client.post("/staff/events/evt_failed/replay").status_code == 400
    token = csrf(client, "/staff/events")
    missing = client.post("/staff/events/evt_nope/replay", data={"csrf_token": token})
    assert missing.status_code == 404


def test_viewer_sees_no_replay_button_and_cannot_replay(client, inbox):
    signed_in(client, "viewer")
    assert ">Replay<" not in client.get("/staff/events").get_data(as_text=True)
    token = csrf(client, "/staff/events")
    assert (
        client.post("/staff/events/evt_failed/replay", data={"csrf_token": token}).status_code
        == 403
    )
    db.session.expire_all()
    assert db.session.get(StripeEvent, "evt_failed").attempts == 3
