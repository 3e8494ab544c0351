"""`flask mail send`: queue what is left of upgrade asks, then send the mails that are due."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from support.asks.queueing import continue_due
from support.mail.outbox import send_due

mail_group = AppGroup("mail", help="Outgoing mail to supporters.")


@mail_group.command("send")
@click.option("--limit", default=200, show_default=True, help="Most mails to send in this run.")
def mail_send(limit: int) -> None:
    """Send pending mails and retry failed ones whose wait is over (after queueing the
    batches of upgrade asks not queued yet, where no worker runs to do it)."""
    while continue_due():
        pass
    report = send_due(limit=limit)
    click.echo(f"sent {report.sent}, failed {report.failed}, skipped {report.skipped}")
