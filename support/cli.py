"""`flask` commands: staff accounts, Stripe maintenance, demo data, campaigns."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from support import audit
from support.accounts import ROLES, AccountError, create_staff
from support.extensions import db
from support.models import StaffUser

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
    from support.accounts import end_sessions
    from support.addresses import normalise_email
    from support.staff.two_factor import disable

    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"{email} has no staff account")
    disable(user)
    end_sessions(user)
    audit.record(audit.TWO_FACTOR_RESET, user.email)
    db.session.commit()
    click.echo(f"Two-step sign-in is off for {user.email}")


@staff_group.command("count")
def staff_count() -> None:
    """Print how many staff accounts exist (used by `make run`)."""
    click.echo(db.session.scalar(sa.select(sa.func.count(StaffUser.id))))


def init_app(app: Flask) -> None:
    """Register every command group."""
    from support.campaigns.cli import campaigns_group
    from support.demo import demo_group
    from support.mail.commands import mail_group
    from support.manage.commands import supporters_group
    from support.webhooks.cli import stripe_group

    app.cli.add_command(staff_group)
    app.cli.add_command(mail_group)
    app.cli.add_command(supporters_group)
    app.cli.add_command(stripe_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(campaigns_group)
