"""What the manage and account tests share: supporters with a real customer in the
emulator, pressing a link's one button, a supporter session, a gift paid in a browser."""

from __future__ import annotations

import re

import sqlalchemy as sa

from support import stripe_api
from support.extensions import db
from support.models import CheckoutAttempt, Supporter
from support.portal_links import make_token
from tests.conftest import form_tokens
from tests.stripe_history import apply_due, give, oldest_first, post_event


def customer_supporter(email="layla@example.com", lang="en"):
    """A supporter with a real customer in the emulator."""
    customer = stripe_api.client().v1.customers.create(params={"email": email})
    row = Supporter(email=email, name="Layla", lang=lang, stripe_customer_id=customer.id)
    db.session.add(row)
    db.session.commit()
    return row


def press(client, path: str):
    """Press the one button of a /manage/<token> page (GET shows it, POST spends the link)."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    token = form_tokens(page.get_data(as_text=True))["csrf_token"]
    return client.post(path, data={"csrf_token": token})


def open_portal(client, supporter_id: int, lang: str = "en"):
    """Press the account page's Stripe button for one customer."""
    page = client.get(f"/{lang}/account").get_data(as_text=True)
    data = {"supporter": supporter_id, "csrf_token": form_tokens(page)["csrf_token"]}
    return client.post(f"/{lang}/account/portal", data=data)


def sign_in(client, supporter_id: int, lang: str = "en"):
    """Spend a mailed link in `client`: a supporter session."""
    response = press(client, f"/manage/{make_token(supporter_id, lang, 'mail')}")
    assert response.status_code == 303 and response.headers["Location"] == f"/{lang}/account"


def paid_in(client, emulator) -> CheckoutAttempt:
    """A monthly gift started in `client`'s browser, paid, and applied by the ledger."""
    session, _, _ = give(client, emulator)
    for event in oldest_first(emulator):
        post_event(client, event)
    apply_due()
    attempt = db.session.scalar(sa.select(CheckoutAttempt))
    assert attempt.session_id == session["id"] and attempt.completed_at is not None
    return attempt


def portal_link(page: str) -> str | None:
    """The thanks page's link to the Billing Portal, if it shows one."""
    match = re.search(r'href="(/manage/[^"]+)"', page)
    return match.group(1) if match else None
