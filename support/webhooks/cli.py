"""`flask stripe ...`: retry events, reconcile the ledger, create the webhook endpoint."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import click
from flask.cli import AppGroup

from support import stripe_api
from support.webhooks import inbox
from support.webhooks.reconcile import reconcile

stripe_group = AppGroup("stripe", help="Stripe events, reconciliation and webhook setup.")


@stripe_group.command("process-events")
@click.option(
    "--max-attempts",
    default=inbox.MAX_ATTEMPTS,
    show_default=True,
    help="Leave an event failed after this many attempts (replay it from the staff inbox).",
)
@click.option("--limit", type=int, default=None, help="Most events to try in this run.")
@click.option(
    "--watch",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Keep running, looking for due events every SECONDS.",
)
def process_events(max_attempts: int, limit: int | None, watch: float | None) -> None:
    """Apply pending events and retry failed ones whose wait is over.

    Several workers may run at once on PostgreSQL: each takes events nobody holds.
    """
    while True:
        counts = inbox.process_due(max_attempts=max_attempts, limit=limit)
        if counts or watch is None:
            summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
            click.echo(summary or "No events due.")
        if watch is None:
            break
        time.sleep(watch)
    if counts.get("failed"):
        raise SystemExit(1)


def _unix(value: datetime | None) -> int | None:
    return int(value.replace(tzinfo=UTC).timestamp()) if value else None


@stripe_group.command("reconcile")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only objects created on or after this day (UTC), e.g. 2026-01-31.",
)
def reconcile_command(since: datetime | None) -> None:
    """Pull subscriptions, invoices and charges from Stripe and repair the ledger."""

    def progress(items, label):
        with click.progressbar(items, label=label, show_pos=True, file=sys.stderr) as bar:
            yield from bar

    try:
        report = reconcile(_unix(since), progress)
    except stripe_api.StripeUnavailable as error:
        raise click.ClickException(f"Stripe did not answer: {error}") from None
    for line in report.differences:
        click.echo(f"repaired {line}")
    click.echo(
        f"Checked {report.subscriptions} subscriptions, {report.invoices} invoices and "
        f"{report.charges} charges; repaired {len(report.differences)}."
    )


@stripe_group.command("setup-webhook")
@click.argument("url")
def setup_webhook(url: str) -> None:
    """Create the Stripe webhook endpoint for URL (…/stripe/webhook) and print its secret."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(
            "must be an http(s) URL, e.g. https://support.example.org/stripe/webhook"
        )
    try:
        endpoint = stripe_api.create_webhook_endpoint(url)
    except stripe_api.StripeUnavailable as error:
        raise click.ClickException(f"Stripe refused: {error}") from None
    click.echo(
        f"Created {endpoint['id']} for {endpoint['url']} "
        f"(API {stripe_api.API_VERSION}, {len(stripe_api.WEBHOOK_EVENTS)} event types)."
    )
    click.echo("Put this in .env and restart:")
    click.echo(f"STRIPE_WEBHOOK_SECRET={endpoint['secret']}")
