"""A supporter's past payments, as the ledger holds them, for the account page.

Read from the database only. Each payment links to Stripe's own receipt
(`charge.receipt_url`, kept by the ledger) when Stripe gave one; a failed
payment has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from support.extensions import db
from support.models import Payment

# The page shows the latest payments; older ones are on Stripe's receipts and in mail.
SHOWN = 24


@dataclass(frozen=True)
class PastPayment:
    """One payment: `status` is paid, failed, refunded or partially_refunded."""

    date: datetime
    amount: int
    currency: str
    status: str
    refunded_amount: int
    receipt_url: str | None


def past_payments(supporter_id: int, limit: int = SHOWN) -> list[PastPayment]:
    """The supporter's payments, newest first (a failed one dated when it was recorded)."""
    when = sa.func.coalesce(Payment.paid_at, Payment.created_at)
    rows = db.session.execute(
        sa.select(Payment, when.label("when"))
        .where(Payment.supporter_id == supporter_id)
        .order_by(when.desc(), Payment.id.desc())
        .limit(limit)
    )
    return [
        PastPayment(
            date=payment.paid_at or payment.created_at,
            amount=payment.amount,
            currency=payment.currency,
            status=payment.status,
            refunded_amount=payment.refunded_amount,
            receipt_url=payment.receipt_url if payment.status != "failed" else None,
        )
        for payment, _when in rows
    ]
