"""Erasing a supporter's personal data on request, keeping the books whole.

Name and email go; the supporter row, subscriptions and payments stay (with
amounts, dates and currency) because the newsroom must account for money it
received. Used by the staff area and `flask supporters erase`.

Copies go too: the stored webhook events of the reader lose their personal
fields, every spelling of the reader's names and addresses, and their error
texts (`support.erased_events`); their mails lose their context (it may hold
the name and address) and error text, and unsent ones are not sent. The
sources of their checkout attempts, subscriptions and payments keep only the
article and its campaign (`support.stored_sources`): a link the reader
followed may have carried their address. Events that arrive afterwards are
stored without the Checkout contact (`payloads.erased_contact`), and the
ledger never writes a name or an address into an erased supporter.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from support import audit, stripe_api
from support.erased_events import redact_events
from support.extensions import db
from support.models import OutboundEmail, Supporter, utcnow
from support.stored_sources import erase_sources

log = logging.getLogger(__name__)


def _scrub_mail(supporter: Supporter) -> None:
    """Drop the mail context and error text (they may hold the name and address);
    unsent mail is not sent."""
    db.session.execute(
        sa.update(OutboundEmail)
        .where(OutboundEmail.supporter_id == supporter.id)
        .values(context="{}", last_error=None)
    )
    db.session.execute(
        sa.update(OutboundEmail)
        .where(OutboundEmail.supporter_id == supporter.id, OutboundEmail.status == "pending")
        .values(status="canceled")
    )


def erase_supporter(supporter: Supporter, delete_stripe_customer: bool = False) -> None:
    """Remove the supporter's personal data locally (not committed); amounts are kept.

    With `delete_stripe_customer`, the customer is deleted at Stripe first (which
    also ends their subscriptions there); if Stripe fails, `StripeUnavailable`
    is raised and nothing is erased, so the request can be repeated.
    Erasing twice is harmless.
    """
    if delete_stripe_customer and supporter.stripe_customer_id:
        stripe_api.delete_customer(supporter.stripe_customer_id)
    audit.record_erasure(supporter, delete_stripe_customer)
    if supporter.erased_at is not None and supporter.email is None and supporter.name is None:
        return
    redacted = redact_events(supporter)
    _scrub_mail(supporter)
    erase_sources(supporter, [supporter.email, supporter.name])
    supporter.email = None
    supporter.name = None
    supporter.erased_at = utcnow()
    log.info("Erased supporter %s (%s event payloads redacted)", supporter.id, redacted)
