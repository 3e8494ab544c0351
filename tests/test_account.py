"""A mailed manage link proves the address: GET and HEAD show a button and spend
nothing (mail scanners), the POST spends it once and opens a 30-minute supporter
session; the account page shows every gift under that address, across its Stripe
customers, and nothing of anyone else's."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from support import stripe_api
from support.extensions import db
from support.manage import supporter_access
from support.models import Supporter, SupporterSession, UsedLink, utcnow
from support.portal_links import make_token
from tests import factories
from tests.conftest import form_tokens


def customer_supporter(email="layla@example.com", lang="en", name="Layla") -> Supporter:
    """A supporter with a real customer in the emulator."""
    customer = stripe_api.client().v1.customers.create(params={"email": email})
    row = factories.supporter(email, name, lang=lang, stripe_customer_id=customer.id)
    db.session.commit()
    return row


def portal_sessions(emulator) -> list[dict]:
    return emulator.state()["objects"].get("billing_portal.session", [])


def press(client, path: str):
    """Press the one button of a /manage/<token> page, as a browser would."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    token = form_tokens(page.get_data(as_text=True))["csrf_token"]
    return client.post(path, data={"csrf_token": token})


def signed_in(client, supporter: Supporter, lang: str = "en"):
    """Spend a fresh mailed link for `supporter` in `client`; the account page's response."""
    response = press(client, f"/manage/{make_token(supporter.id, lang, 'mail')}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/{lang}/account"
    return client.get(response.headers["Location"])


def used_links() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(UsedLink))


def test_get_and_head_spend_nothing_and_the_post_spends_once(client, emulator):
    supporter = customer_supporter()
    path = f"/manage/{make_token(supporter.id, 'en', 'mail')}"
    assert client.head(path).status_code == 200
    for _ in range(3):  # a scanner, a preview, the reader
        page = client.get(path)
        assert page.status_code == 200
        assert page.headers["Cache-Control"] == "no-store"
        html = page.get_data(as_text=True)
        assert f'<form method="post" action="{path}">' in html and "Open my account page" in html
    assert used_links() == 0 and portal_sessions(emulator) == []

    spent = press(client, path)
    assert spent.status_code == 303 and spent.headers["Location"] == "/en/account"
    assert used_links() == 1
    again = client.get(path)  # already used: GET says so, still spending nothing
    assert again.status_code == 410
    assert "This link has already been used" in again.get_data(as_text=True)
    token = form_tokens(client.get("/en/manage").get_data(as_text=True))["csrf_token"]
    assert client.post(path, data={"csrf_token": token}).status_code == 410
    assert portal_sessions(emulator) == []  # a mailed link opens our page, not Stripe's


def test_a_post_without_the_forms_token_spends_nothing(client):
    supporter = customer_supporter(lang="ar")
    path = f"/manage/{make_token(supporter.id, 'ar', 'mail')}"
    refused = client.post(path, data={})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'dir="rtl"' in html and f'action="{path}"' in html
    assert used_links() == 0
    assert client.get("/ar/account").status_code == 401


def test_the_account_page_shows_every_gift_under_the_proven_address(client, emulator):
    first = customer_supporter()
    factories.subscription(first, 500, current_period_end=utcnow() + timedelta(days=20))
    # The same address typed at a later Checkout: a second Stripe customer.
    second = customer_supporter("Layla@Example.com".lower())
    factories.subscription(second, 1200, interval="year", status="canceled", canceled_at=utcnow())
    factories.payment(second, 700)
    stranger = customer_supporter("someone@example.com", name="Someone")
    factories.subscription(stranger, 9900)
    db.session.commit()

    page = signed_in(client, first)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = " ".join(page.get_data(as_text=True).split())
    assert "$5 every month: active, next payment on" in text
    assert "$12 every year: cancelled on" in text
    assert "$7, once: paid on" in text
    assert "$99" not in text and "Someone" not in text
    html = page.get_data(as_text=True)
    buttons = re.findall(r'name="supporter" value="(\d+)"', html)
    assert sorted(map(int, buttons)) == sorted([first.id, second.id])
    assert "Payment details 1 of 2" in text and "(in English)" in text

    # Each customer's Billing Portal, from its own button; never the stranger's.
    csrf = form_tokens(html)["csrf_token"]
    opened = client.post("/en/account/portal", data={"supporter": second.id, "csrf_token": csrf})
    assert opened.status_code == 303
    [portal] = portal_sessions(emulator)
    assert portal["customer"] == second.stripe_customer_id
    assert opened.headers["Location"] == portal["url"]
    data = {"supporter": stranger.id, "csrf_token": csrf}
    assert client.post("/en/account/portal", data=data).status_code == 403
    data["supporter"] = "x"
    assert client.post("/en/account/portal", data=data).status_code == 400
    assert len(portal_sessions(emulator)) == 1


def test_the_account_page_in_arabic_is_right_to_left(client):
    supporter = customer_supporter(lang="ar")
    factories.subscription(supporter, 500)
    db.session.commit()
    page = signed_in(client, supporter, lang="ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "دعمك" in page and "تسجيل الخروج" in page
    assert "(in English)" not in page


def test_the_session_ends_after_30_minutes(client, monkeypatch):
    supporter = customer_supporter()
    assert signed_in(client, supporter).status_code == 200
    later = utcnow() + timedelta(minutes=31)
    monkeypatch.setattr(supporter_access, "utcnow", lambda: later)
    closed = client.get("/en/account")
    assert closed.status_code == 401
    html = closed.get_data(as_text=True)
    assert "Your account page is closed" in html and 'name="email"' in html
    assert "$5" not in html


def test_sign_out_ends_the_session_in_the_database_too(app, client):
    supporter = customer_supporter()
    signed_in(client, supporter)
    cookie = client.get_cookie("session").value
    csrf = form_tokens(client.get("/en/account").get_data(as_text=True))["csrf_token"]
    out = client.post("/en/account/sign-out", data={"csrf_token": csrf})
    assert out.status_code == 303
    page = client.get(out.headers["Location"])
    assert page.status_code == 401 and "You are signed out" in page.get_data(as_text=True)
    [row] = db.session.scalars(sa.select(SupporterSession)).all()
    assert row.ended_at is not None
    # The old cookie, replayed by whoever copied it, opens nothing either.
    with app.app_context():
        thief = app.test_client()
        thief.set_cookie("session", cookie)
        assert thief.get("/en/account").status_code == 401


def test_erasure_ends_a_session(client):
    from support.privacy.erasure import erase_supporter

    supporter = customer_supporter()
    assert signed_in(client, supporter).status_code == 200
    erase_supporter(supporter)
    db.session.commit()
    assert client.get("/en/account").status_code == 401


def test_a_link_for_an_erased_supporter_opens_nothing(client):
    supporter = customer_supporter()
    path = f"/manage/{make_token(supporter.id, 'en', 'mail')}"
    supporter.erased_at = utcnow()
    db.session.commit()
    assert client.get(path).status_code == 400
    assert client.post(path, data={}).status_code in (400,)
    assert used_links() == 0


def test_without_a_session_the_account_page_offers_a_link(client):
    closed = client.get("/ar/account")
    assert closed.status_code == 401
    html = closed.get_data(as_text=True)
    assert 'dir="rtl"' in html and 'action="/ar/manage"' in html
    token = form_tokens(client.get("/en/manage").get_data(as_text=True))["csrf_token"]
    data = {"supporter": "1", "csrf_token": token}
    assert client.post("/en/account/portal", data=data).status_code == 403
