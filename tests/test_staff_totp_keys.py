"""TOTP secrets encrypted at rest: what the database holds, key rotation, secrets kept
in clear by earlier versions, and a missing key answering clearly rather than with 500."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from support.extensions import db
from support.models import StaffUser
from support.staff.auth import totp_keys
from tests.factories import (
    TOTP_SECRET,
    csrf,
    enter_code,
    sign_in,
    sign_out,
    signed_in,
    staff,
    totp_code,
)

SETUP = "/staff/account/two-factor"


def stored() -> str:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(StaffUser.totp_secret).where(StaffUser.totp_secret.is_not(None))
    )


def test_the_database_holds_no_secret_in_clear(app, client):
    signed_in(client, "viewer")
    page = client.get(SETUP).get_data(as_text=True)
    secret = re.search(r"data-secret>([A-Z2-7]+)<", page).group(1)
    client.post(SETUP, data={"code": totp_code(0, secret), "csrf_token": csrf(client, SETUP)})
    value = stored()
    assert value.startswith("gAAAAA") and secret not in value
    # The key is derived from SECRET_KEY when STAFF_TOTP_KEYS is unset.
    key = totp_keys.derived_key(app.config["SECRET_KEY"])
    assert Fernet(key).decrypt(value.encode()).decode() == secret
    assert totp_keys.derived_key("another secret key") != key


def test_rotating_keys_keeps_every_second_factor_working(app, client, runner):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["STAFF_TOTP_KEYS"] = [old]
    staff("editor@example.org", "editor", totp=True)
    before = stored()

    app.config["STAFF_TOTP_KEYS"] = [new, old]  # the new key first, the old one still opens
    assert sign_in(client).status_code == 302
    sign_out(client)
    result = runner.invoke(args=["staff", "rotate-totp-keys"])
    assert result.exit_code == 0, result.output
    assert "Encrypted 1 TOTP secrets" in result.output
    assert stored() != before
    assert Fernet(new).decrypt(stored().encode()).decode() == TOTP_SECRET

    app.config["STAFF_TOTP_KEYS"] = [new]  # the old key removed
    sign_in(client, code=False)
    assert enter_code(client, totp_code(1)).status_code == 302


def test_a_secret_no_key_opens_is_refused_clearly(app, client, runner):
    staff("editor@example.org", "editor", totp=True)
    app.config["STAFF_TOTP_KEYS"] = [Fernet.generate_key().decode()]  # removed too early
    sign_in(client, code=False)
    response = enter_code(client, totp_code())
    assert response.status_code == 401
    assert "That code is not right" in response.get_data(as_text=True)
    result = runner.invoke(args=["staff", "rotate-totp-keys"])
    assert result.exit_code != 0 and "nothing was changed" in result.output


def test_a_secret_kept_in_clear_still_works_and_gets_encrypted(app, client, runner):
    user = staff("editor@example.org", "editor")
    user.totp_secret = TOTP_SECRET  # as stored before encryption
    db.session.commit()
    assert sign_in(client).status_code == 302
    assert stored().startswith("gAAAAA")
    assert totp_keys.decrypt(stored()) == TOTP_SECRET

    # The command encrypts those nobody has used since.
    staff("other@example.org", "editor")
    db.session.execute(
        sa.update(StaffUser)
        .where(StaffUser.email == "other@example.org")
        .values(totp_secret=TOTP_SECRET)
    )
    db.session.commit()
    assert runner.invoke(args=["staff", "rotate-totp-keys"]).exit_code == 0
    values = db.session.scalars(sa.select(StaffUser.totp_secret)).all()
    assert all(value.startswith("gAAAAA") for value in values)


def test_the_key_commands(app, runner):
    from support.config import load_config

    fresh = runner.invoke(args=["staff", "totp-key"]).output.strip()
    assert fresh != runner.invoke(args=["staff", "totp-key"]).output.strip()
    assert load_config({"STAFF_TOTP_KEYS": fresh})["STAFF_TOTP_KEYS"] == [fresh]
    current = runner.invoke(args=["staff", "totp-key", "--current"]).output.strip()
    assert current == totp_keys.derived_key(app.config["SECRET_KEY"])


def test_the_keys_setting_is_checked_at_start_up():
    from support.config import ConfigError, load_config

    key = Fernet.generate_key().decode()
    assert load_config({"STAFF_TOTP_KEYS": f" {key} , {key}"})["STAFF_TOTP_KEYS"] == [key, key]
    assert load_config({})["STAFF_TOTP_KEYS"] == []
    with pytest.raises(ConfigError, match="STAFF_TOTP_KEYS: key 2 is not a Fernet key"):
        load_config({"STAFF_TOTP_KEYS": f"{key},not-a-key"})
