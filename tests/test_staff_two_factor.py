"""Two-step sign-in: setting it up, the code step after the password, recovery codes,
throttling, and admins who must have it."""

from __future__ import annotations

import re

import pyotp
import sqlalchemy as sa

from support.extensions import db
from support.models import StaffRecoveryCode, StaffUser
from support.staff.auth import sign_in as sign_in_module
from support.staff.auth import totp_keys
from tests.factories import (
    PASSWORD,
    csrf,
    enter_code,
    sign_in,
    signed_in,
    staff,
    totp_code,
)

SETUP = "/staff/account/two-factor"


def stored_secret() -> str:
    """The authenticator key of the (only) account with one, decrypted."""
    return totp_keys.decrypt(db.session.scalar(sa.select(StaffUser.totp_secret)))


def set_up(client, code_for=lambda secret: pyotp.TOTP(secret).now()):
    """Open the set-up page and confirm with a code; the response and the secret shown."""
    page = client.get(SETUP).get_data(as_text=True)
    secret = re.search(r"data-secret>([A-Z2-7]+)<", page).group(1)
    response = client.post(
        SETUP, data={"code": code_for(secret), "csrf_token": csrf(client, SETUP)}
    )
    return response, secret


def test_set_up_shows_a_server_drawn_qr_code_and_the_key(client):
    signed_in(client, "viewer")
    response = client.get(SETUP)
    page = response.get_data(as_text=True)
    assert '<img class="qr" src="data:image/svg+xml' in page
    assert re.search(r"data-secret>[A-Z2-7]{32}<", page)
    assert " style=" not in page.split("<main", 1)[1]
    policy = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data:" in policy and "unsafe-inline" not in policy


def test_a_wrong_code_does_not_turn_it_on(client):
    signed_in(client, "viewer")
    response, _ = set_up(client, lambda secret: "000000")
    assert response.status_code == 400
    assert "That code is not right" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(StaffUser.totp_secret)) is None


def test_set_up_then_sign_in_with_a_code(client):
    signed_in(client, "viewer")
    response, secret = set_up(client)
    assert response.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", response.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.scalars(sa.select(StaffRecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # kept hashed only

    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    half = sign_in(client, "viewer@example.org", code=False)
    assert half.status_code == 302 and half.headers["Location"].startswith("/staff/login/code")
    assert client.get("/staff/").status_code == 302  # the password alone grants nothing
    assert client.get("/staff/api/stats.json").status_code == 401
    # The code shown at set-up was used: the next one signs in.
    done = enter_code(client, totp_code(1, secret))
    assert done.status_code == 302 and done.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_a_code_works_once(app, client):
    staff("editor@example.org", "editor", totp=True)
    code = totp_code()
    sign_in(client, code=False)
    assert enter_code(client, code).status_code == 302
    other = app.test_client()
    sign_in(other, code=False)
    replay = enter_code(other, code)
    assert replay.status_code == 401
    # A right code seen once: say so, and what to do, rather than "not right".
    said = replay.get_data(as_text=True)
    assert "That code has already been used" in said and "Wait for the next code" in said
    assert "not right" not in said
    assert other.get("/staff/").status_code == 302
    # A code that was never right still says so.
    assert "That code is not right" in enter_code(other, "000000").get_data(as_text=True)


def test_a_reused_code_is_named_in_arabic_and_changes_nothing(client):
    signed_in(client, "viewer")
    set_up(client)
    fresh = totp_code(1, stored_secret())
    arabic = {"Accept-Language": "ar"}
    token = csrf(client, SETUP)
    data = {"code": fresh, "csrf_token": token}
    first = client.post("/staff/account/two-factor/recovery-codes", data=data, headers=arabic)
    assert first.status_code == 200
    again = client.post("/staff/account/two-factor/recovery-codes", data=data, headers=arabic)
    said = again.get_data(as_text=True)
    assert again.status_code == 400
    assert "استُخدم هذا الرمز من قبل" in said and "لم يتغيّر شيء" in said


def test_a_recovery_code_signs_in_once(client):
    signed_in(client, "viewer")
    response, _ = set_up(client)
    code = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", response.get_data(as_text=True))[3]
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    sign_in(client, "viewer@example.org", code=False)
    assert enter_code(client, code.upper().replace("-", " ")).status_code == 302
    page = client.get(SETUP).get_data(as_text=True)
    assert "Recovery codes left: 9." in page
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    sign_in(client, "viewer@example.org", code=False)
    again = enter_code(client, code)
    assert again.status_code == 401
    assert "That recovery code has already been used" in again.get_data(as_text=True)


def test_arabic_digits_are_accepted(client):
    staff("editor@example.org", "editor", totp=True)
    sign_in(client, code=False)
    arabic = totp_code().translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert enter_code(client, arabic).status_code == 302


def test_wrong_codes_are_throttled_per_account(app, client):
    app.config["STAFF_LOGIN_LIMIT_ACCOUNT"] = "3 per 15 minutes"
    staff("editor@example.org", "editor", totp=True)
    sign_in(client, code=False)
    for _ in range(3):
        assert enter_code(client, "123456").status_code == 401
    throttled = enter_code(client, totp_code())
    assert throttled.status_code == 429
    assert "Too many attempts" in throttled.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_wrong_codes_are_throttled_per_address(app, client):
    app.config["STAFF_LOGIN_LIMIT_IP"] = "2 per 15 minutes"
    staff("one@example.org", "editor", totp=True)
    staff("two@example.org", "editor", totp=True)
    sign_in(client, "one@example.org", code=False)
    assert enter_code(client, "123456").status_code == 401
    sign_in(client, "two@example.org", code=False)
    assert enter_code(client, "123456").status_code == 401
    assert enter_code(client, totp_code()).status_code == 429


def test_the_half_signed_in_state_lapses(client, monkeypatch):
    staff("editor@example.org", "editor", totp=True)
    sign_in(client, code=False)
    monkeypatch.setattr(sign_in_module, "PENDING_SECONDS", -1)
    response = enter_code(client, totp_code())
    assert response.status_code == 302 and response.headers["Location"] == "/staff/login"
    assert client.get("/staff/").status_code == 302


def test_a_password_reset_voids_a_half_sign_in(client):
    user = staff("editor@example.org", "editor", totp=True)
    sign_in(client, code=False)
    user.session_version += 1
    db.session.commit()
    assert enter_code(client, totp_code()).headers["Location"] == "/staff/login"


def test_a_promoted_admin_must_set_it_up_before_anything_else(client):
    user = staff("editor@example.org", "editor")
    sign_in(client)
    user.role = "admin"
    db.session.commit()
    assert client.get("/staff/supporters").headers["Location"] == SETUP
    response, _ = set_up(client)
    assert response.status_code == 200
    assert client.get("/staff/supporters").status_code == 200


def test_only_non_admins_may_turn_it_off(client):
    signed_in(client, "admin")
    token = csrf(client, SETUP)
    kept = client.post(
        "/staff/account/two-factor/off", data={"code": totp_code(1), "csrf_token": token}
    )
    assert kept.status_code == 303
    assert db.session.scalar(sa.select(StaffUser.totp_secret)) is not None

    other = staff("editor@example.org", "editor", totp=True)
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    sign_in(client)
    wrong = client.post(
        "/staff/account/two-factor/off", data={"code": "000000", "csrf_token": token}
    )
    assert wrong.status_code == 400
    off = client.post(
        "/staff/account/two-factor/off",
        data={"code": totp_code(1), "csrf_token": csrf(client, SETUP)},
    )
    assert off.status_code == 303
    db.session.refresh(other)
    assert other.totp_secret is None
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    assert sign_in(client, "editor@example.org", PASSWORD).headers["Location"] == "/staff/"


def test_the_command_line_resets_a_lost_second_factor(app, client, runner):
    staff("boss@example.org", "admin")
    sign_in(client, "boss@example.org")
    assert client.get("/staff/").status_code == 200
    result = runner.invoke(args=["staff", "reset-2fa", "Boss@Example.org"])
    assert result.exit_code == 0, result.output
    assert "off for boss@example.org" in result.output
    assert client.get("/staff/").status_code == 302  # signed out everywhere
    sign_in(client, "boss@example.org")
    assert client.get("/staff/").headers["Location"] == SETUP  # asked to set it up again
    unknown = runner.invoke(args=["staff", "reset-2fa", "nobody@example.org"])
    assert unknown.exit_code != 0 and "no staff account" in unknown.output


def test_staff_create_offers_the_editor_role(app, runner):
    result = runner.invoke(
        args=["staff", "create", "ed@example.org", "--role", "editor", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(StaffUser.role)) == "editor"


def test_new_recovery_codes_replace_the_old_ones(client):
    signed_in(client, "viewer")
    first, _ = set_up(client)
    old = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", first.get_data(as_text=True))
    wrong = client.post(
        "/staff/account/two-factor/recovery-codes",
        data={"code": "000000", "csrf_token": csrf(client, SETUP)},
    )
    assert wrong.status_code == 400 and "nothing was changed" in wrong.get_data(as_text=True)
    # The code that confirmed the set-up was this step's, so the next step's is fresh.
    fresh = client.post(
        "/staff/account/two-factor/recovery-codes",
        data={
            "code": totp_code(1, stored_secret()),
            "csrf_token": csrf(client, SETUP),
        },
    )
    new = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", fresh.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    sign_in(client, "viewer@example.org", code=False)
    assert enter_code(client, old[0]).status_code == 401
    assert enter_code(client, new[0]).status_code == 302


def test_the_accounts_page_speaks_arabic(client):
    signed_in(client, "admin")
    page = client.get("/staff/accounts", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'dir="rtl"' in page and "حسابات الفريق" in page and "مشرف" in page
