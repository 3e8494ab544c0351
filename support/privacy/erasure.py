"""Erasing a supporter's personal data on request, keeping the books whole.

Name and email go; the supporter row, subscriptions and payments stay (with
amounts, dates and currency) because the newsroom must account for money it
received. Used by the staff area and `flask supporters erase`.

Copies go too: the stored webhook events of the reader lose their personal
fields, every spelling of the reader's names and addresses, and their error
texts (`support.privacy.erased_events`); their mails lose their context (it may hold
the name and address) and error text, and unsent ones are not sent (an upgrade
ask queued for them among them; its recipient row holds only ids and amounts,
and the opt-out from asks stays, a preference saying nothing of the person). The
sources of their checkout attempts, subscriptions and payments keep only the
article and its campaign (`support.privacy.stored_sources`): a link the reader
followed may have carried their address. Events that arrive afterwards are
stored without the Checkout contact (`payloads.erased_contact`), and the
ledger never writes a name or an address into an erased supporter.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from support import audit, stripe_api
from support.addresses import normalise_email
from support.dialect import deadlocked
from support.extensions import db
from support.models import OutboundEmail, Subscription, Supporter, SupporterChange, utcnow
from support.privacy.erased_events import Reader, redact_events
from support.privacy.stored_sources import erase_sources

log = logging.getLogger(__name__)

# Runs of an erasure that PostgreSQL may end to break a deadlock (see erase_committed).
DEADLOCK_RETRIES = 3


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


def _scrub_comments(supporter: Supporter) -> None:
    """Drop the words given when cancelling (free text may name the reader); reasons stay."""
    db.session.execute(
        sa.update(SupporterChange)
        .where(SupporterChange.supporter_id == supporter.id)
        .values(comment=None)
    )
    db.session.execute(
        sa.update(Subscription)
        .where(Subscription.supporter_id == supporter.id)
        .values(cancel_comment=None)
    )


def _erase_one(supporter: Supporter) -> Reader:
    """Blank one row and redact its events; the reader as the events showed them."""
    _, reader = redact_events(supporter)
    _scrub_mail(supporter)
    _scrub_comments(supporter)
    erase_sources(supporter, [supporter.email, supporter.name])
    supporter.email = None
    supporter.name = None
    supporter.erased_at = utcnow()
    return reader


def _same_reader(reader: Reader, done: set[int]) -> list[Supporter]:
    """Rows not erased yet that hold one of the reader's addresses or customers."""
    emails = {normalise_email(e) for e in reader.emails} - {""}
    ids = {i for i in reader.ids if i.startswith("cus_")}
    if not emails and not ids:
        return []
    query = sa.select(Supporter).where(
        sa.or_(Supporter.email.in_(sorted(emails)), Supporter.stripe_customer_id.in_(sorted(ids))),
        Supporter.erased_at.is_(None),
    )
    return [row for row in db.session.scalars(query.order_by(Supporter.id)) if row.id not in done]


def erase_supporter(supporter: Supporter, delete_stripe_customer: bool = False) -> list[Supporter]:
    """Remove the reader's personal data locally (not committed); amounts are kept.

    A reader has one row per Stripe customer, and any of them may carry their
    address: every row with the supporter's address is erased too, and so is
    every row holding an address or customer that the reader's own events show
    as theirs (an address changed at Stripe, a second gift). The rows erased,
    this one first.

    With `delete_stripe_customer`, each row's customer is deleted at Stripe
    first (which also ends their subscriptions there); if Stripe fails,
    `StripeUnavailable` is raised and `erase_committed` rolls back, so it can
    be repeated. Erasing twice is harmless.
    """
    done: set[int] = set()
    erased: list[Supporter] = []
    waiting = [supporter]
    if supporter.email:
        waiting += _same_reader(Reader(emails={supporter.email}), {supporter.id})
    while waiting:
        row = waiting.pop(0)
        if row.id in done:
            continue
        done.add(row.id)
        if delete_stripe_customer and row.stripe_customer_id:
            stripe_api.delete_customer(row.stripe_customer_id)
        if row.erased_at is not None and row.email is None and row.name is None:
            audit.record_erasure(row, delete_stripe_customer, already_erased=True)
            continue
        reader = _erase_one(row)
        # Written last: its row refers to the supporter's, which (as when an event
        # is applied) is locked after the events and the subscriptions.
        audit.record_erasure(row, delete_stripe_customer)
        erased.append(row)
        log.info("Erased supporter %s", row.id)
        waiting += _same_reader(reader, done)
    return erased


def erase_committed(supporter: Supporter, delete_stripe_customer: bool = False) -> list[Supporter]:
    """`erase_supporter`, committed.

    The erasure writes many of the reader's rows in one transaction; a worker
    applying one of their events at that moment (the ones deleting the customer
    causes, say) writes some of the same rows. Should PostgreSQL find the two
    waiting on each other, it ends one of them: if it is the erasure, everything
    is rolled back and the erasure runs again, which is harmless (a customer
    already deleted counts as deleted). When Stripe does not delete a customer,
    nothing is erased, the failed attempt is on the audit log, and
    `StripeUnavailable` is raised.
    """
    attempt = 1
    while True:
        try:
            erased = erase_supporter(supporter, delete_stripe_customer)
            db.session.commit()
            return erased
        except stripe_api.StripeUnavailable:
            db.session.rollback()
            audit.record_erasure(supporter, True, audit.FAILED)
            db.session.commit()
            raise
        except OperationalError as error:
            db.session.rollback()
            if attempt == DEADLOCK_RETRIES or not deadlocked(error):
                raise
            log.warning("Erasing supporter %s met a deadlock, erasing again", supporter.id)
            attempt += 1
