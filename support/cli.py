"""`flask` commands: each area's group (staff, mail, supporters, stripe, demo, campaigns)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every command group."""
    from support.campaigns.cli import campaigns_group
    from support.demo.cli import demo_group
    from support.mail.cli import mail_group
    from support.privacy.cli import supporters_group
    from support.staff.auth.cli import staff_group
    from support.webhooks.cli import stripe_group

    app.cli.add_command(staff_group)
    app.cli.add_command(mail_group)
    app.cli.add_command(supporters_group)
    app.cli.add_command(stripe_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(campaigns_group)
