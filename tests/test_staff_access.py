"""Staff sign-in, roles on every route, throttling and the session cookie."""

from __future__ import annotations

import uuid

import pytest

from support.extensions import db, limiter
from tests.conftest import REDIS_URL, redis_server
from tests.factories import (
    PASSWORD,
    csrf,
    enter_code,
    event,
    sign_in,
    sign_out,
    signed_in,
    staff,
    supporter,
)

PAGES = [
    "/staff/",
    "/staff/banner",
    "/staff/supporters",
    "/staff/supporters?q=reader",
    "/staff/supporters/{supporter}",
    "/staff/supporters.csv",
    "/staff/events",
    "/staff/campaigns",
]


@pytest.fixture
def ids(app):
    """A supporter and an event to address in URLs."""
    row = supporter("someone@example.org")
    stored = event("invoice.paid", status="failed")
    db.session.commit()
    return {"supporter": row.id, "event": stored.id}


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_pages_redirect_to_login(client, ids, path):
    response = client.get(path.format(**ids))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")


@pytest.mark.one_database
def test_anonymous_api_answers_401_json(client):
    response = client.get("/staff/api/stats.json")
    assert response.status_code == 401
    assert response.is_json and response.json["error"]["status"] == 401


def test_anonymous_posts_are_refused(client, ids):
    assert client.post(f"/staff/events/{ids['event']}/replay").status_code in (302, 400)
    assert client.post(f"/staff/supporters/{ids['supporter']}/erase").status_code in (302, 400)


@pytest.mark.parametrize("role", ["viewer", "admin"])
@pytest.mark.parametrize("path", [*PAGES, "/staff/api/stats.json"])
def test_signed_in_staff_see_every_page(client, ids, role, path):
    signed_in(client, role)
    assert client.get(path.format(**ids)).status_code == 200


def test_viewer_cannot_replay_or_erase(client, ids):
    signed_in(client, "viewer")
    token = csrf(client, "/staff/events")
    assert "Replay" not in client.get("/staff/events").get_data(as_text=True)
    replay = client.post(f"/staff/events/{ids['event']}/replay", data={"csrf_token": token})
    assert replay.status_code == 403
    erase = client.post(
        f"/staff/supporters/{ids['supporter']}/erase",
        data={"csrf_token": token, "confirm": "y"},
    )
    assert erase.status_code == 403
    page = client.get(f"/staff/supporters/{ids['supporter']}").get_data(as_text=True)
    assert "someone@example.org" in page and "Erase personal data" not in page


def test_login_success_failure_and_logout(client):
    staff("editor@example.org", "viewer")
    wrong = sign_in(client, "editor@example.org", "not the password")
    assert wrong.status_code == 401
    assert "do not match" in wrong.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302

    ok = sign_in(client, " Editor@Example.org ", PASSWORD)
    assert ok.status_code == 302 and ok.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200

    out = sign_out(client)
    assert out.status_code == 302 and out.headers["Location"] == "/staff/login"
    assert client.get("/staff/").status_code == 302


def test_logout_is_a_post_with_csrf_so_other_sites_cannot_sign_staff_out(client):
    signed_in(client)
    page = client.get("/staff/").get_data(as_text=True)
    assert '<form method="post" action="/staff/logout"' in page
    # A link or an image on another site makes a GET; a forged form has no token.
    link = client.get("/staff/logout")
    assert link.status_code == 405 and "POST" in link.headers["Allow"]
    assert client.post("/staff/logout").status_code == 400
    assert client.get("/staff/").status_code == 200  # still signed in


def test_login_without_csrf_is_refused(client):
    staff("editor@example.org")
    response = client.post(
        "/staff/login", data={"email": "editor@example.org", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert client.get("/staff/").status_code == 302


def test_login_follows_next_only_inside_staff(client):
    staff("editor@example.org")
    token = csrf(client)
    data = {"email": "editor@example.org", "password": PASSWORD, "csrf_token": token}
    inside = client.post("/staff/login?next=/staff/events", data=data)
    assert inside.headers["Location"] == "/staff/events"
    sign_out(client)
    data["csrf_token"] = csrf(client)
    outside = client.post("/staff/login?next=//evil.example/staff/", data=data)
    assert outside.headers["Location"] == "/staff/"


def test_session_cookie_is_httponly_and_lax(client):
    staff("editor@example.org")
    response = sign_in(client)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # a permanent session with the staff lifetime


def test_session_cookie_is_secure_behind_https(app, database, emulator):
    from support import create_app
    from tests.conftest import base_config

    config = base_config(database, emulator.url)
    config["SUPPORT_PUBLIC_URL"] = "https://support.example.org"
    secure_app = create_app({**config, "SESSION_COOKIE_SECURE": True})
    with secure_app.app_context():
        staff("editor@example.org")
        client = secure_app.test_client()
        response = sign_in(client)
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if "session=" in c)
        assert "Secure" in cookie


def _hammer(client, email: str, times: int) -> list[int]:
    token = csrf(client)
    return [
        client.post(
            "/staff/login", data={"email": email, "password": "wrong", "csrf_token": token}
        ).status_code
        for _ in range(times)
    ]


def test_failed_logins_are_throttled_per_account(client):
    staff("editor@example.org")
    codes = _hammer(client, "editor@example.org", 6)
    assert codes == [401] * 5 + [429]
    blocked = sign_in(client)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    # Another account from the same address is not blocked by this one.
    staff("other@example.org")
    assert sign_in(client, "other@example.org").status_code == 302


def from_address(app, address: str):
    """A browser at another client address."""
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = address
    return other


def test_failures_from_elsewhere_do_not_keep_the_real_admin_out(app, client):
    staff("boss@example.org", "admin")
    attacker = from_address(app, "203.0.113.66")
    assert _hammer(attacker, "boss@example.org", 6) == [401] * 5 + [429]
    # The guesser's address stays blocked, even with the right password ...
    assert sign_in(attacker, "boss@example.org", code=False).status_code == 429
    # ... while the admin, elsewhere, signs in with the password and a code.
    response = sign_in(from_address(app, "198.51.100.7"), "boss@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"


def test_wrong_codes_from_elsewhere_do_not_keep_the_real_admin_out(app, client):
    app.config["STAFF_LOGIN_LIMIT_ACCOUNT"] = "3 per 15 minutes"
    staff("boss@example.org", "admin")
    # Someone who has the password keeps typing wrong codes.
    attacker = from_address(app, "203.0.113.66")
    sign_in(attacker, "boss@example.org", code=False)
    assert [enter_code(attacker, "123456").status_code for _ in range(4)] == [401] * 3 + [429]
    admin = from_address(app, "198.51.100.7")
    assert sign_in(admin, "boss@example.org").headers["Location"] == "/staff/"
    assert admin.get("/staff/").status_code == 200


def test_the_limiter_store_never_holds_a_client_address(app, client):
    staff("editor@example.org")
    _hammer(from_address(app, "203.0.113.66"), "editor@example.org", 2)
    keys = " ".join(str(key) for key in limiter.storage.storage)
    assert "staff-login" in keys and "203.0.113.66" not in keys


def test_failed_logins_are_throttled_per_address(app, client):
    app.config["STAFF_LOGIN_LIMIT_IP"] = "3 per 15 minutes"
    codes = [_hammer(client, f"nobody{n}@example.org", 1)[0] for n in range(4)]
    assert codes == [401, 401, 401, 429]
    # A fresh app context: the fixture's one would share `g` (and its CSRF token).
    with app.app_context():
        other_address = app.test_client()
        token = csrf(other_address)
        response = other_address.post(
            "/staff/login",
            data={"email": "x@example.org", "password": "wrong", "csrf_token": token},
            environ_base={"REMOTE_ADDR": "10.0.0.9"},
        )
    assert response.status_code == 401


def test_successful_logins_do_not_count(client):
    staff("editor@example.org")
    for _ in range(7):
        assert sign_in(client).status_code == 302
        assert sign_out(client).status_code == 302


def test_throttling_holds_across_workers_with_redis(database, emulator):
    """Two app instances (two gunicorn workers) share one count through Redis."""
    server = redis_server()
    from support import create_app
    from support.address_keys import account_address_key
    from tests.conftest import base_config

    config = {
        **base_config(database, emulator.url),
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        # Redis outlives the test: a fresh account, and no address limit in the way.
        "STAFF_LOGIN_LIMIT_IP": "1000 per minute",
    }
    email = f"editor-{uuid.uuid4().hex}@example.org"
    first, second = create_app(config), create_app(config)
    with first.app_context():
        codes = _hammer(first.test_client(), email, 3)
    # The count lives in Redis, where every worker process reads it, under a keyed digest.
    with first.test_request_context():
        key = account_address_key("staff-login", email)
    assert list(server.scan_iter(f"*{key}*"))
    assert not list(server.scan_iter(f"*{email}*"))
    with second.app_context():
        codes += _hammer(second.test_client(), email, 3)
    assert codes == [401] * 5 + [429]


def test_staff_settings_are_checked_at_start_up():
    from support.config import ConfigError, load_config

    config = load_config({"STAFF_LOGIN_LIMIT_ACCOUNT": "3 per hour", "STAFF_STATS_MAX_AGE": "0"})
    assert (
        config["STAFF_LOGIN_LIMIT_ACCOUNT"] == "3 per hour" and config["STAFF_STATS_MAX_AGE"] == 0
    )
    with pytest.raises(ConfigError, match="STAFF_LOGIN_LIMIT_IP"):
        load_config({"STAFF_LOGIN_LIMIT_IP": "often"})
    with pytest.raises(ConfigError, match="STAFF_SESSION_HOURS"):
        load_config({"STAFF_SESSION_HOURS": "-1"})
    assert load_config({})["STAFF_SESSION_IDLE_MINUTES"] == 60
    assert load_config({"STAFF_SESSION_IDLE_MINUTES": "15"})["STAFF_SESSION_IDLE_MINUTES"] == 15
    for idle in ("0", "soon"):
        with pytest.raises(ConfigError, match="STAFF_SESSION_IDLE_MINUTES"):
            load_config({"STAFF_SESSION_IDLE_MINUTES": idle})
