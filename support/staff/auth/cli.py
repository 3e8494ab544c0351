"""`flask staff ...`: create accounts, reset two-step sign-in, rotate authenticator keys."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from support import audit
from support.extensions import db
from support.models import StaffUser
from support.staff.auth.accounts import ROLES, AccountError, create_staff

staff_group = AppGroup("staff", help="Manage staff accounts.")


@staff_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_create(email: str, role: str, password_stdin: bool) -> None:
    """Create a staff account for EMAIL."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_staff(email, password, role)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    audit.record(audit.CREATE_ACCOUNT, user.email, detail=user.role)
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}")


@staff_group.command("reset-2fa")
@click.argument("email")
def staff_reset_2fa(email: str) -> None:
    """Turn off EMAIL's two-step sign-in and sign them out (a lost phone and recovery codes).

    An admin is asked to set it up again at their next sign-in.
    """
    from support.addresses import normalise_email
    from support.staff.auth.accounts import end_sessions
    from support.staff.auth.two_factor import disable

    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"{email} has no staff account")
    disable(user)
    end_sessions(user)
    audit.record(audit.TWO_FACTOR_RESET, user.email)
    db.session.commit()
    click.echo(f"Two-step sign-in is off for {user.email}")


@staff_group.command("rotate-totp-keys")
def staff_rotate_totp_keys() -> None:
    """Encrypt every stored TOTP secret again with the first key of STAFF_TOTP_KEYS.

    Run it after putting a new key first; then the old keys can be removed.
    Secrets still kept in clear from before encryption are encrypted too.
    """
    from support.staff.auth.totp_keys import SecretUnreadable
    from support.staff.auth.two_factor import rotate_keys

    try:
        count = rotate_keys()
    except SecretUnreadable as error:
        db.session.rollback()
        raise click.ClickException(f"{error}; nothing was changed") from None
    db.session.commit()
    click.echo(f"Encrypted {count} TOTP secrets with the first key")


@staff_group.command("totp-key")
@click.option("--current", is_flag=True, help="Print the key that encrypts now instead.")
def staff_totp_key(current: bool) -> None:
    """Print a new key for STAFF_TOTP_KEYS (or, with --current, the one in use).

    With STAFF_TOTP_KEYS unset the key in use is derived from SECRET_KEY:
    list it in STAFF_TOTP_KEYS before changing SECRET_KEY.
    """
    from cryptography.fernet import Fernet
    from flask import current_app

    from support.staff.auth.totp_keys import derived_key

    if not current:
        click.echo(Fernet.generate_key().decode())
        return
    keys = current_app.config["STAFF_TOTP_KEYS"]
    click.echo(keys[0] if keys else derived_key(current_app.config["SECRET_KEY"]))


@staff_group.command("count")
def staff_count() -> None:
    """Print how many staff accounts exist (used by `make run`)."""
    click.echo(db.session.scalar(sa.select(sa.func.count(StaffUser.id))))
