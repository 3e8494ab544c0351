"""Staff sessions kept on the server: signing out ends a copied cookie, an absolute
lifetime that does not restart, an idle timeout, and an authenticator key being set
up that never outlives the session it was shown in."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pyotp
import sqlalchemy as sa

from support.extensions import db
from support.models import StaffSession, StaffUser, utcnow
from support.staff.auth import sessions
from tests.factories import PASSWORD, csrf, sign_in, sign_out, signed_in, staff

SETUP = "/staff/account/two-factor"


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def copy_to(app, value: str):
    """Another browser holding a copy of a session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", value)
    return thief


def cookie_contents(app, value: str) -> dict:
    return app.session_interface.inner.get_signing_serializer(app).loads(value)


def rows() -> list[StaffSession]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(StaffSession).order_by(StaffSession.id)))


def later(monkeypatch, **delta):
    """Move the sessions' clock forward by `delta` from now."""
    moment = utcnow() + timedelta(**delta)
    monkeypatch.setattr(sessions, "utcnow", lambda: moment)


def test_the_cookie_carries_only_a_random_id_kept_hashed(app, client):
    signed_in(client, "viewer")
    contents = cookie_contents(app, cookie_of(client))
    token = contents["_user_id"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    [row] = rows()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.token_hash, str(row.staff_user_id)}
    assert "staff_totp_setup" not in contents


def test_signing_out_ends_a_copied_cookie(app, client):
    signed_in(client, "viewer")
    stolen = cookie_of(client)
    assert copy_to(app, stolen).get("/staff/").status_code == 200  # a copy works while signed in
    assert sign_out(client).status_code == 302
    thief = copy_to(app, stolen)
    response = thief.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")
    assert thief.get("/staff/api/stats.json").status_code == 401
    [row] = rows()
    assert row.revoked_at is not None


def test_signing_in_again_starts_a_new_session(app, client):
    signed_in(client, "viewer")
    first = cookie_of(client)
    sign_out(client)
    assert sign_in(client, "viewer@example.org").status_code == 302
    assert copy_to(app, first).get("/staff/").status_code == 302
    assert client.get("/staff/").status_code == 200
    assert [row.revoked_at is None for row in rows()] == [True]  # the ended one is cleared away


def test_the_lifetime_runs_from_signing_in_whatever_the_requests(app, client, monkeypatch):
    app.config["STAFF_SESSION_HOURS"] = 2
    signed_in(client, "viewer")
    for minutes in (50, 100):  # busy all along, never idle
        later(monkeypatch, minutes=minutes)
        assert client.get("/staff/").status_code == 200
    later(monkeypatch, minutes=121)
    response = client.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")


def test_an_idle_session_ends(app, client, monkeypatch):
    app.config["STAFF_SESSION_IDLE_MINUTES"] = 30
    signed_in(client, "viewer")
    later(monkeypatch, minutes=29)
    assert client.get("/staff/").status_code == 200
    later(monkeypatch, minutes=58)  # 29 minutes after the last request
    assert client.get("/staff/").status_code == 200
    later(monkeypatch, minutes=89)
    assert client.get("/staff/").status_code == 302
    # Signing in again works as ever.
    monkeypatch.undo()
    assert sign_in(client, "viewer@example.org").status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(app, client, monkeypatch):
    signed_in(client, "viewer")
    [row] = rows()
    signed = row.last_seen_at
    later(monkeypatch, seconds=30)
    client.get("/staff/")
    assert rows()[0].last_seen_at == signed
    later(monkeypatch, seconds=90)
    client.get("/staff/")
    seen = rows()[0].last_seen_at
    assert seen - signed >= timedelta(seconds=89)


def test_deactivation_revokes_every_session_for_good(app, client):
    viewer = app.test_client()
    signed_in(viewer, "viewer")
    copy = cookie_of(viewer)
    signed_in(client, "admin")
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "viewer@example.org"))
    token = csrf(client, "/staff/accounts")
    client.post(f"/staff/accounts/{user.id}/deactivate", data={"csrf_token": token})
    assert all(row.revoked_at is not None for row in rows() if row.staff_user_id == user.id)
    client.post(f"/staff/accounts/{user.id}/reactivate", data={"csrf_token": token})
    # Active again, but the old session stays ended.
    assert copy_to(app, copy).get("/staff/").status_code == 302
    assert sign_in(viewer, "viewer@example.org", PASSWORD).status_code == 302


def _setup_key(client) -> str:
    page = client.get(SETUP).get_data(as_text=True)
    return re.search(r"data-secret>([A-Z2-7]+)<", page).group(1)


def test_a_key_being_set_up_does_not_outlive_the_session(app, client):
    """Someone copies the key shown on a shared browser, then signs out; the next
    admin there must get a key of their own, and the copied one must not enrol."""
    staff("first@example.org", "admin", totp=False)
    staff("second@example.org", "admin", totp=False)
    sign_in(client, "first@example.org")
    copied = _setup_key(client)
    assert _setup_key(client) == copied  # the same key while the page is reloaded
    assert copied not in str(cookie_contents(app, cookie_of(client)))
    client.post("/staff/logout", data={"csrf_token": csrf(client, SETUP)})

    sign_in(client, "second@example.org")
    own = _setup_key(client)
    assert own != copied
    token = csrf(client, SETUP)
    refused = client.post(SETUP, data={"code": pyotp.TOTP(copied).now(), "csrf_token": token})
    assert refused.status_code == 400
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(StaffUser.totp_secret.is_not(None))) == 0
    )
    done = client.post(SETUP, data={"code": pyotp.TOTP(own).now(), "csrf_token": token})
    assert done.status_code == 200 and "recovery" in done.get_data(as_text=True).lower()
    assert all(row.totp_setup is None for row in rows())


def test_posting_the_set_up_form_without_its_page_is_a_clear_400(client):
    signed_in(client, "viewer")
    token = csrf(client, "/staff/")
    response = client.post(SETUP, data={"code": "123456", "csrf_token": token})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Scan this code with your authenticator app first" in page
    # The page it answers with carries a key that the next post can confirm.
    key = re.search(r"data-secret>([A-Z2-7]+)<", page).group(1)
    done = client.post(SETUP, data={"code": pyotp.TOTP(key).now(), "csrf_token": token})
    assert done.status_code == 200


def test_the_set_up_page_in_arabic_when_posted_without_it(client):
    signed_in(client, "viewer")
    token = csrf(client, "/staff/")
    response = client.post(
        SETUP, data={"code": "123456", "csrf_token": token}, headers={"Accept-Language": "ar"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'dir="rtl"' in page and "امسح هذا الرمز بتطبيق المصادقة أولًا" in page
