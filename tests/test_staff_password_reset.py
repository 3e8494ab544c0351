"""Password reset: the same answer for any address, a single-use short-lived link,
and a new password that ends every other session."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.models import OutboundEmail
from support.staff.auth import account_links
from tests.factories import PASSWORD, csrf, sign_in, signed_in, staff
from tests.staff_mail import sent_link

NEW_PASSWORD = "a brand new passphrase"


def ask(client, email: str, **headers):
    token = csrf(client, "/staff/password-reset")
    return client.post(
        "/staff/password-reset", data={"email": email, "csrf_token": token}, headers=headers
    )


def set_new(client, path: str, password: str = NEW_PASSWORD):
    # Any form of the session carries its CSRF token; the link's page may be an error page.
    token = csrf(client, "/staff/password-reset")
    return client.post(path, data={"password": password, "confirm": password, "csrf_token": token})


@pytest.mark.one_database
def test_the_login_page_links_to_the_reset_page(client):
    page = client.get("/staff/login").get_data(as_text=True)
    assert 'href="/staff/password-reset"' in page and "Forgot your password?" in page


def test_the_answer_is_the_same_for_unknown_addresses(client, smtp_server):
    staff("editor@example.org")
    known = ask(client, "editor@example.org")
    unknown = ask(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    rows = db.session.scalars(sa.select(OutboundEmail).order_by(OutboundEmail.id)).all()
    assert [row.status for row in rows] == ["pending", "skipped"]
    assert "nobody" not in (rows[1].key + (rows[1].last_error or "") + rows[1].context)
    sent_link(smtp_server)
    assert len(smtp_server.received()) == 1  # nothing to the unknown address


def test_a_deactivated_account_gets_no_reset_mail(client, smtp_server):
    user = staff("gone@example.org")
    user.status = "deactivated"
    db.session.commit()
    assert ask(client, "gone@example.org").status_code == 200
    assert db.session.scalar(sa.select(OutboundEmail.status)) == "skipped"


def test_a_reset_sets_the_password_once_and_ends_other_sessions(app, client, smtp_server):
    other = app.test_client()
    signed_in(other, "viewer")
    assert other.get("/staff/").status_code == 200

    assert ask(client, "Viewer@Example.org ").status_code == 200
    path = sent_link(smtp_server)
    [mail] = smtp_server.messages
    assert mail["To"] == "viewer@example.org" and "Reset" in mail["Subject"]

    assert client.get(path).status_code == 200
    done = set_new(client, path)
    assert done.status_code == 303 and done.headers["Location"] == "/staff/login"
    assert other.get("/staff/").status_code == 302  # the other session has ended
    assert sign_in(client, "viewer@example.org", PASSWORD).status_code == 401
    assert sign_in(client, "viewer@example.org", NEW_PASSWORD).status_code == 302

    again = set_new(client, path, "a third passphrase here")
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)


def test_an_expired_reset_link_changes_nothing(client, smtp_server, monkeypatch):
    staff("editor@example.org")
    ask(client, "editor@example.org")
    path = sent_link(smtp_server)
    monkeypatch.setitem(account_links.MAX_AGE, "reset", -1)
    expired = set_new(client, path)
    assert expired.status_code == 410
    page = expired.get_data(as_text=True)
    assert "This link has expired" in page and 'href="/staff/password-reset"' in page
    assert sign_in(client, "editor@example.org", PASSWORD).status_code == 302


def test_an_invitation_link_is_no_reset_link(client, smtp_server):
    user = staff("editor@example.org")
    token = account_links.make_token(user, "invite")
    assert client.get(f"/staff/password-reset/{token}").status_code == 400


@pytest.mark.one_database
def test_a_bad_address_gets_a_clear_error_in_arabic(client):
    response = ask(client, "not an address", **{"Accept-Language": "ar"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "أدخل عنوان بريد إلكتروني صحيحًا." in page and 'value="not an address"' in page


def test_reset_requests_are_throttled_per_address(app, client):
    app.config["STAFF_RESET_LIMIT_PER_EMAIL"] = "2 per hour"
    staff("editor@example.org")
    assert ask(client, "editor@example.org").status_code == 200
    assert ask(client, "editor@example.org").status_code == 200
    throttled = ask(client, "editor@example.org")
    assert throttled.status_code == 429
    assert "Too many attempts" in throttled.get_data(as_text=True)
    assert ask(client, "other@example.org").status_code == 200
