"""`flask supporters erase EMAIL [--delete-stripe-customer]` and `supporters clean-sources`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from support.addresses import mask_address
from support.ledger.supporters import find_supporters
from support.stripe_api import StripeUnavailable

supporters_group = AppGroup("supporters", help="Supporter records.")


@supporters_group.command("erase")
@click.argument("email")
@click.option(
    "--delete-stripe-customer",
    is_flag=True,
    help="Also delete the customer (and so their card and subscriptions) at Stripe.",
)
def supporters_erase(email: str, delete_stripe_customer: bool) -> None:
    """Remove EMAIL's personal data from every supporter with that address; amounts stay,
    anonymised. No more mail is sent."""
    # The one erasure implementation, shared with the staff admin action.
    from support.privacy.erasure import erase_committed

    found = find_supporters(email)
    if not found:
        raise click.ClickException(f"No supporter with the address {mask_address(email)}")
    # Every row with the address (one per Stripe customer it was typed for) goes.
    try:
        erased = erase_committed(found[0], delete_stripe_customer=delete_stripe_customer)
    except StripeUnavailable as error:
        raise click.ClickException(
            f"Stripe did not delete the customer ({error}), so nothing was erased. Try again."
        ) from error
    suffix = " and deleted their Stripe customers" if delete_stripe_customer else ""
    click.echo(f"Erased supporters {', '.join(f'#{row.id}' for row in erased)}{suffix}.")


@supporters_group.command("clean-sources")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1, 100_000))
def supporters_clean_sources(batch: int) -> None:
    """Reduce stored sources to the article and campaign (rows written before that rule)."""
    from support.privacy.stored_sources import clean_stored

    counts = clean_stored(batch)
    click.echo(", ".join(f"{table}: {count}" for table, count in counts.items()))
    click.echo(f"Cleaned {sum(counts.values())} stored sources.")
