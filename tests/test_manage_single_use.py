"""A manage link is spent once, by a POST, mailed or asked for, even when it is used
twice at the same moment; GET and HEAD never spend it; a second use gets a page
offering a new link."""

from __future__ import annotations

import string
import threading
from datetime import timedelta

import requests
import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeTimedSerializer

from support.extensions import db
from support.manage.single_use import KEEP
from support.models import SupporterSession, UsedLink, utcnow
from support.portal_links import SALT, make_token, portal_url
from tests.conftest import form_tokens
from tests.helpers.manage import customer_supporter, paid_in, portal_link, press


def portal_sessions(emulator) -> list[dict]:
    return emulator.state()["objects"].get("billing_portal.session", [])


def test_a_mailed_link_works_once_then_says_so_in_its_language(client, emulator):
    supporter = customer_supporter(lang="ar")
    path = portal_url(supporter.id, "ar", "mail").removeprefix("http://support.test")
    assert press(client, path).status_code == 303
    again = client.get(path, headers={"Accept-Language": "en"})
    assert again.status_code == 410
    assert again.headers["Cache-Control"] == "no-store"
    page = again.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "سبق استخدام هذا الرابط" in page and "الروابط التي نرسلها بالبريد الإلكتروني" in page
    assert 'action="/ar/manage"' in page and 'name="email"' in page
    csrf = form_tokens(page)["csrf_token"]
    assert client.post(path, data={"csrf_token": csrf}).status_code == 410
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SupporterSession)) == 1


def test_each_link_is_its_own(client, emulator):
    supporter = customer_supporter()
    first, second = make_token(supporter.id, "en"), make_token(supporter.id, "en")
    assert first != second
    assert press(client, f"/manage/{first}").status_code == 303
    assert press(client, f"/manage/{second}").status_code == 303
    assert client.get(f"/manage/{first}").status_code == 410


def test_a_head_request_does_not_use_the_link(client, emulator):
    """Mail scanners and link previews look at links before the reader clicks."""
    supporter = customer_supporter()
    path = f"/manage/{make_token(supporter.id, 'en', 'mail')}"
    assert client.head(path).status_code == 200
    assert client.get(path).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UsedLink)) == 0
    assert press(client, path).status_code == 303


def test_a_link_opens_the_account_page_while_stripe_does_not_answer(client, emulator):
    attempt = paid_in(client, emulator)
    path = portal_link(client.get(f"/en/thanks?session_id={attempt.session_id}").get_data(True))
    emulator.fail_next(status=500, count=3)
    # Spending a link asks Stripe nothing: the account page reads the ledger.
    assert press(client, path).status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UsedLink)) == 1
    assert client.get("/en/account").status_code == 200
    assert client.get(path).status_code == 410


def spellings(app, token: str) -> list[str]:
    """Other texts of the same signed token: base64 leaves spare bits in the last character."""
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT)
    found = []
    for char in string.ascii_letters + string.digits + "-_":
        other = token[:-1] + char
        try:
            same = serializer.loads(other) == serializer.loads(token)
        except BadSignature:
            continue
        if same and other != token:
            found.append(other)
    assert found
    return found


def test_a_used_link_spelled_otherwise_is_still_used(app, client, emulator):
    token = make_token(customer_supporter().id, "en", "mail")
    assert press(client, f"/manage/{token}").status_code == 303
    for other in spellings(app, token):
        assert client.get(f"/manage/{other}").status_code == 410


def test_a_link_mailed_before_links_had_a_nonce_works_once(app, client, emulator):
    supporter = customer_supporter()
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT)
    old = serializer.dumps({"s": supporter.id, "l": "en", "p": "mail"})
    assert press(client, f"/manage/{old}").status_code == 303
    assert client.get(f"/manage/{old}").status_code == 410
    for other in spellings(app, old):
        assert client.get(f"/manage/{other}").status_code == 410


def test_used_links_are_forgotten_once_they_would_have_expired(client, emulator):
    supporter = customer_supporter()
    now = utcnow()
    db.session.add_all(
        [
            UsedLink(nonce="expired-long-ago", used_at=now - KEEP - timedelta(minutes=1)),
            UsedLink(nonce="still-valid", used_at=now - KEEP + timedelta(minutes=5)),
        ]
    )
    db.session.commit()
    assert press(client, f"/manage/{make_token(supporter.id, 'en')}").status_code == 303
    db.session.expire_all()
    kept = set(db.session.scalars(sa.select(UsedLink.nonce)))
    assert "expired-long-ago" not in kept and "still-valid" in kept and len(kept) == 2


def test_two_uses_at_the_same_moment_spend_it_once(live_server, emulator):
    supporter = customer_supporter()
    url = f"{live_server.url}/manage/{make_token(supporter.id, 'en', 'mail')}"
    browsers = [requests.Session() for _ in range(2)]
    forms = [form_tokens(b.get(url, timeout=10).text) for b in browsers]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def use(browser: requests.Session, form: dict) -> None:
        start.wait()
        answer = browser.post(url, data=form, allow_redirects=False, timeout=30)
        statuses.append(answer.status_code)

    pairs = zip(browsers, forms, strict=True)
    threads = [threading.Thread(target=use, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [303, 410]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SupporterSession)) == 1
    opened = [b.get(f"{live_server.url}/en/account", timeout=10).status_code for b in browsers]
    assert sorted(opened) == [200, 401]
