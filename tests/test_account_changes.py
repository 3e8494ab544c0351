"""A supporter's own changes on the account page, end to end through the emulator and
the webhooks: each action asks Stripe once, writes no ledger row itself, and the
ledger equals Stripe's subscription after the webhook; the page says a change is on
its way until then; each change is mailed once, in the supporter's language."""

from __future__ import annotations

import sqlalchemy as sa

from support.extensions import db
from support.models import OutboundEmail, Subscription
from tests.helpers.account_changes import (
    act,
    changes,
    gift_in_session,
    ledger_matches_stripe,
)


def mails(kind_prefix: str = "gift_") -> list[tuple[str, str, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(OutboundEmail.kind, OutboundEmail.key, OutboundEmail.lang).order_by(
            OutboundEmail.id
        )
    )
    return [tuple(r) for r in rows if r.kind.startswith(kind_prefix)]


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_lower_the_amount_end_to_end(client, emulator):
    supporter, sub, deliveries = gift_in_session(client, emulator)
    done = act(
        client, sub.id, "amount", amount="3", amount_other="", frequency="month", currency="usd"
    )
    assert done.status_code == 303 and done.headers["Location"] == "/en/account"
    # Stripe has the new price; the ledger does not, until the webhook.
    stripe_sub = emulator.get(sub.stripe_id)
    assert stripe_sub["items"]["data"][0]["price"]["unit_amount"] == 300
    db.session.expire_all()
    assert db.session.get(Subscription, sub.id).amount == 500
    page = text(client.get("/en/account"))
    assert "Your new gift is on its way" in page and "A change is on its way" in page
    [change] = changes()
    assert (change.kind, change.old_amount, change.new_amount, change.applied_at) == (
        "amount",
        500,
        300,
        None,
    )

    deliveries.deliver()
    ledger_matches_stripe(emulator, sub.stripe_id)
    [change] = changes()
    assert change.applied_at is not None
    assert mails() == [("gift_changed", f"supporter_change:{change.id}", "en")]
    page = text(client.get("/en/account"))
    assert "$3 every month: active" in page and "A change is on its way" not in page
