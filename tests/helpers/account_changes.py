"""What the account-change tests share: a paid monthly gift and a supporter session in
one test client, pressing an action's confirm button, and delivering the webhooks
that follow (each once, in order, or as the test says) to the app and its worker."""

from __future__ import annotations

import re

import sqlalchemy as sa

from support.extensions import db
from support.models import Subscription, Supporter, SupporterChange
from tests.conftest import form_tokens
from tests.helpers.manage import paid_in, sign_in
from tests.stripe_history import actual_ledger, apply_due, expected_ledger, post_event

_VERSION = re.compile(r'<input[^>]*name="version"[^>]*value="(\d+)"')


class Deliveries:
    """The emulator's events delivered to the app, each once unless asked again."""

    def __init__(self, client, emulator):
        self.client, self.emulator = client, emulator
        self.sent: set[str] = set()

    def new(self) -> list[dict]:
        """Events the emulator made that were not delivered yet, oldest first."""
        return [e for e in reversed(self.emulator.events()) if e["id"] not in self.sent]

    def deliver(self, events: list[dict] | None = None) -> list[dict]:
        """Deliver `events` (default: every new one, oldest first), then apply what is due."""
        events = self.new() if events is None else events
        for event in events:
            assert post_event(self.client, event).status_code == 200
            self.sent.add(event["id"])
        apply_due()
        db.session.expire_all()
        return events


def gift_in_session(client, emulator, lang: str = "en", amount: str = "5"):
    """A monthly gift paid in `client` and a supporter session for its supporter:
    (supporter, subscription row, deliveries)."""
    paid_in(client, emulator)
    supporter = db.session.scalar(sa.select(Supporter))
    sub = db.session.scalar(sa.select(Subscription))
    deliveries = Deliveries(client, emulator)
    deliveries.sent.update(e["id"] for e in emulator.events())
    sign_in(client, supporter.id, lang)
    return supporter, sub, deliveries


def action_form(client, gift_id: int, action: str, lang: str = "en", query: str = "") -> dict:
    """The hidden fields of an action's confirm page (CSRF token and version)."""
    page = client.get(f"/{lang}/account/gifts/{gift_id}/{action}{query}")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    html = page.get_data(as_text=True)
    fields = {"csrf_token": form_tokens(html)["csrf_token"]}
    version = _VERSION.search(html)
    if version:
        fields["version"] = version.group(1)
    return fields


def act(client, gift_id: int, action: str, lang: str = "en", **values):
    """Open the action's page and press its button with `values`; the POST's response."""
    data = {**action_form(client, gift_id, action, lang), **values}
    return client.post(f"/{lang}/account/gifts/{gift_id}/{action}", data=data)


def changes() -> list[SupporterChange]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SupporterChange).order_by(SupporterChange.id)))


def ledger_matches_stripe(emulator, sub_id: str) -> None:
    """The ledger's subscriptions equal the emulator's, pause and reason included."""
    assert actual_ledger()["subscriptions"] == expected_ledger(emulator)["subscriptions"]
    stripe_sub = emulator.get(sub_id)
    row = db.session.scalar(sa.select(Subscription).where(Subscription.stripe_id == sub_id))
    pause = stripe_sub.get("pause_collection")
    details = stripe_sub.get("cancellation_details") or {}
    resumes = int(row.paused_until.timestamp()) if row.paused_until else None
    assert (row.collection_paused, resumes) == (
        pause is not None,
        pause["resumes_at"] if pause else None,
    )
    assert (row.cancel_reason, row.cancel_comment) == (
        details.get("feedback"),
        details.get("comment"),
    )
