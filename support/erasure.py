"""Erasing a supporter's personal data on request, keeping the books whole.

Name and email go; the supporter row, subscriptions and payments stay (with
amounts, dates and currency) because the newsroom must account for money it
received. Copies of the email and name in stored webhook payloads and queued
mail are scrubbed too. Used by the staff area and `flask supporters erase`.
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa

from support import stripe_api
from support.extensions import db
from support.models import OutboundEmail, StripeEvent, Supporter, utcnow

log = logging.getLogger(__name__)

ERASED = "[erased]"


def _scrub_events(supporter: Supporter) -> int:
    """Replace the email and name in stored event payloads that mention this supporter."""
    needles = [json.dumps(value) for value in (supporter.email, supporter.name) if value]
    keys = [k for k in (supporter.stripe_customer_id, supporter.email) if k]
    if not needles or not keys:
        return 0
    changed = 0
    events = db.session.scalars(
        sa.select(StripeEvent).where(
            sa.or_(*(StripeEvent.payload.contains(k, autoescape=True) for k in keys))
        )
    )
    for event in events:
        payload = event.payload
        for needle in needles:
            # Whole JSON string values only, so no unrelated text is touched.
            payload = payload.replace(needle, json.dumps(ERASED))
        if payload != event.payload:
            event.payload = payload
            changed += 1
    return changed


def _scrub_mail(supporter: Supporter) -> None:
    """Drop the mail context (it may hold the name and address); unsent mail is not sent."""
    db.session.execute(
        sa.update(OutboundEmail)
        .where(OutboundEmail.supporter_id == supporter.id)
        .values(context="{}")
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
    if supporter.erased_at is not None and supporter.email is None and supporter.name is None:
        return
    scrubbed = _scrub_events(supporter)
    _scrub_mail(supporter)
    supporter.email = None
    supporter.name = None
    supporter.erased_at = utcnow()
    log.info("Erased supporter %s (%s event payloads scrubbed)", supporter.id, scrubbed)
