"""A manage link opens the Billing Portal once, mailed or asked for, even when it is used
twice at the same moment; a second use gets a page offering a new link."""

from __future__ import annotations

import string
import threading
from datetime import timedelta

import requests
import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeTimedSerializer

from support.extensions import db
from support.manage.single_use import KEEP
from support.models import UsedLink, utcnow
from support.portal_links import SALT, make_token, portal_url
from tests.helpers.manage import customer_supporter


def portal_sessions(emulator) -> list[dict]:
    return emulator.state()["objects"].get("billing_portal.session", [])


def test_a_mailed_link_works_once_then_says_so_in_its_language(client, emulator):
    supporter = customer_supporter(lang="ar")
    path = portal_url(supporter.id, "ar", "mail").removeprefix("http://support.test")
    assert client.get(path).status_code == 303
    again = client.get(path, headers={"Accept-Language": "en"})
    assert again.status_code == 410
    assert again.headers["Cache-Control"] == "no-store"
    page = again.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "سبق استخدام هذا الرابط" in page and "الروابط التي نرسلها بالبريد الإلكتروني" in page
    assert 'action="/ar/manage"' in page and 'name="email"' in page
    assert len(portal_sessions(emulator)) == 1


def test_each_link_is_its_own(client, emulator):
    supporter = customer_supporter()
    first, second = make_token(supporter.id, "en"), make_token(supporter.id, "en")
    assert first != second
    assert client.get(f"/manage/{first}").status_code == 303
    assert client.get(f"/manage/{second}").status_code == 303
    assert client.get(f"/manage/{first}").status_code == 410


def test_a_head_request_does_not_use_the_link(client, emulator):
    """Mail scanners and link previews look at links before the reader clicks."""
    supporter = customer_supporter()
    path = f"/manage/{make_token(supporter.id, 'en', 'mail')}"
    assert client.head(path).status_code == 200
    assert portal_sessions(emulator) == []
    assert client.get(path).status_code == 303


def test_a_link_stays_usable_when_stripe_does_not_answer(client, emulator):
    supporter = customer_supporter()
    path = f"/manage/{make_token(supporter.id, 'en')}"
    emulator.fail_next(status=500, count=3)
    assert client.get(path).status_code == 502
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UsedLink)) == 0
    assert client.get(path).status_code == 303  # "Try again" on the 502 page works
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
    assert client.get(f"/manage/{token}").status_code == 303
    for other in spellings(app, token):
        assert client.get(f"/manage/{other}").status_code == 410


def test_a_link_mailed_before_links_had_a_nonce_works_once(app, client, emulator):
    supporter = customer_supporter()
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT)
    old = serializer.dumps({"s": supporter.id, "l": "en", "p": "mail"})
    assert client.get(f"/manage/{old}").status_code == 303
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
    assert client.get(f"/manage/{make_token(supporter.id, 'en')}").status_code == 303
    db.session.expire_all()
    kept = set(db.session.scalars(sa.select(UsedLink.nonce)))
    assert "expired-long-ago" not in kept and "still-valid" in kept and len(kept) == 2


def test_two_uses_at_the_same_moment_open_one_portal(live_server, emulator):
    supporter = customer_supporter()
    url = f"{live_server.url}/manage/{make_token(supporter.id, 'en', 'mail')}"
    start = threading.Barrier(2)
    statuses: list[int] = []

    def use() -> None:
        start.wait()
        statuses.append(requests.get(url, allow_redirects=False, timeout=30).status_code)

    threads = [threading.Thread(target=use) for _ in range(2)]
    # Stripe's round trip widens the window in which both requests are in flight
    # (reset() keeps latency, so it is put back here).
    emulator.latency = 0.5
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        emulator.latency = 0
    assert sorted(statuses) == [303, 410]
    assert len(portal_sessions(emulator)) == 1
