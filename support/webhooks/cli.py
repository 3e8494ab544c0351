"""`flask stripe ...`: apply events (worker), reconcile the ledger, create the webhook
endpoint, register the pay page's domain for wallets."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import AppGroup

from support import stripe_api, stripe_budget
from support.urls import public_host
from support.webhooks import inbox, payloads
from support.webhooks.applying import drain
from support.webhooks.reconcile import reconcile
from support.webhooks.worker import Worker

stripe_group = AppGroup("stripe", help="Stripe events, reconciliation and webhook setup.")


@stripe_group.command("worker")
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Events applied at once (Stripe reads overlap; the request budget is shared).",
)
@click.option(
    "--poll",
    type=click.FloatRange(0.05, 600),
    default=None,
    help="Seconds between looks for due work [default: 1 on SQLite, 10 on PostgreSQL,"
    " which also wakes the worker at once].",
)
def worker(threads: int, poll: float | None) -> None:
    """Apply stored events and send mail until SIGTERM (or Ctrl-C).

    Run as many as you like, on any machines, against PostgreSQL: each claims
    events nobody holds. Together they stay under STRIPE_MAX_REQUESTS_PER_SECOND
    (shared through RATELIMIT_STORAGE_URI).
    """
    Worker(current_app._get_current_object(), threads=threads, poll=poll).run()


@stripe_group.command("process-events")
@click.option(
    "--max-attempts",
    default=inbox.MAX_ATTEMPTS,
    show_default=True,
    help="Leave an event failed after this many attempts (replay it from the staff inbox).",
)
@click.option("--limit", type=int, default=None, help="Most events to try in this run.")
def process_events(max_attempts: int, limit: int | None) -> None:
    """Apply the events due now (pending, and failed ones whose wait is over), send due
    mail, and exit: for cron and tests. Exits 1 when an event failed."""
    stripe_budget.install(current_app._get_current_object())
    counts = drain(max_attempts=max_attempts, limit=limit)
    summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
    click.echo(summary or "No events due.")
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


@stripe_group.command("reduce-payloads")
def reduce_payloads() -> None:
    """Reduce the webhook payloads stored whole before this version to what applying and
    the inbox need (names, addresses and phones go). Safe to run again, and beside
    running workers."""
    changed = payloads.reduce_stored()
    click.echo(f"Reduced {changed} stored payloads.")


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


WALLETS = ("apple_pay", "google_pay", "link", "paypal")


@stripe_group.command("register-domain")
def register_domain() -> None:
    """Register SUPPORT_PUBLIC_URL's host as a payment method domain, so the Payment
    Element on the pay page may offer wallets (Apple Pay, Google Pay, Link).

    Safe to run again: a domain Stripe already has is reported (and enabled again
    if it had been disabled), not created twice.
    """
    host = public_host()
    if "." not in host or host.replace(".", "").isdigit():
        raise click.ClickException(
            f"SUPPORT_PUBLIC_URL's host ({host or 'none'}) is not a public domain name: "
            "set SUPPORT_PUBLIC_URL to the address readers use, e.g. https://support.example.org"
        )
    try:
        domain = stripe_api.register_payment_method_domain(host)
        said = f"Registered {host} ({domain['id']})"
    except stripe_api.DomainExists as exists:
        domain = exists.domain
        said = f"{host} is already registered ({domain['id']})"
    except stripe_api.StripeUnavailable as error:
        raise click.ClickException(
            f"Stripe refused to register {host}: {error.stripe_message or error}"
        ) from None
    wallets = ", ".join(
        f"{name} {domain[name]['status']}"
        for name in WALLETS
        if isinstance(domain.get(name), dict) and "status" in domain[name]
    )
    click.echo(f"{said}; wallets: {wallets or 'none reported'}.")
