"""The audit trail: every staff action — who, when, on what, and how it went.

One table holds them all, `staff_action`, in one way: an admin's actions on a
supporter's page (`support.staff.supporters.queries.actions`, which also give their row a unique
key so a double submit acts once) and every other change recorded here, by
`record`. A recorded row joins the session of the change it records, so the
change and its record commit together, or neither does.

Who is the signed-in staff member in a request, or the command line (no
email) outside one. An erasure's row names no one erased: no email, no name,
no Stripe customer, only the supporter row's id, which is anonymised by then.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import has_request_context
from flask_login import current_user

from support.extensions import db
from support.models import StaffAction, Supporter, utcnow

# The kinds of row, in the order the audit page's filter offers them.
REFUND = "refund"
CANCEL_NOW = "cancel_now"
CANCEL_AT_PERIOD_END = "cancel_at_period_end"
RESEND_MAIL = "resend_mail"
ERASE = "erase"
INVITE = "invite"
CREATE_ACCOUNT = "create_account"
ROLE = "role"
DEACTIVATE = "deactivate"
REACTIVATE = "reactivate"
TWO_FACTOR_RESET = "two_factor_reset"
TWO_FACTOR_OFF = "two_factor_off"
CAMPAIGN_PUBLISH = "campaign_publish"
CAMPAIGN_END = "campaign_end"
CAMPAIGN_REVERT = "campaign_revert"
REPLAY = "replay"
UPGRADE_ASK = "upgrade_ask"
KINDS = (
    REFUND,
    CANCEL_NOW,
    CANCEL_AT_PERIOD_END,
    RESEND_MAIL,
    ERASE,
    INVITE,
    CREATE_ACCOUNT,
    ROLE,
    DEACTIVATE,
    REACTIVATE,
    TWO_FACTOR_RESET,
    TWO_FACTOR_OFF,
    CAMPAIGN_PUBLISH,
    CAMPAIGN_END,
    CAMPAIGN_REVERT,
    REPLAY,
    UPGRADE_ASK,
)

DONE = "done"
FAILED = "failed"
# A supporter action Stripe accepted (`requested`), then showed done in the webhook
# the worker applied (`confirmed`).
REQUESTED = "requested"
CONFIRMED = "confirmed"
# What an erasure's `detail` may say (the audit page words them in each language).
STRIPE_CUSTOMER_DELETED = "stripe_customer_deleted"
STRIPE_UNAVAILABLE = "stripe_unavailable"
ALREADY_ERASED = "already_erased"


def actor() -> tuple[int | None, str | None]:
    """The signed-in staff member's id and email; (None, None) for the command line."""
    if has_request_context() and current_user.is_authenticated:
        return current_user.id, current_user.email
    return None, None


def record(
    kind: str,
    target: str = "",
    *,
    supporter_id: int | None = None,
    detail: str | None = None,
    outcome: str = DONE,
) -> StaffAction:
    """Add the row for a finished action to the session (the caller commits)."""
    user_id, email = actor()
    now = utcnow()
    row = StaffAction(
        key=None,
        staff_user_id=user_id,
        staff_email=email,
        supporter_id=supporter_id,
        action=kind,
        target=target[:255],
        outcome=outcome,
        detail=detail,
        created_at=now,
        finished_at=now,
    )
    db.session.add(row)
    return row


def record_erasure(
    supporter: Supporter,
    delete_stripe_customer: bool,
    outcome: str = DONE,
    already_erased: bool = False,
) -> StaffAction:
    """The row of an erasure: "1 supporter erased", by row id only."""
    if outcome == FAILED:
        detail = STRIPE_UNAVAILABLE
    elif delete_stripe_customer and supporter.stripe_customer_id:
        detail = STRIPE_CUSTOMER_DELETED
    elif already_erased:
        detail = ALREADY_ERASED
    else:
        detail = None
    return record(ERASE, supporter_id=supporter.id, detail=detail, outcome=outcome)


def _confirm(ids: list[int]) -> None:
    if ids:
        db.session.execute(
            sa.update(StaffAction)
            .where(StaffAction.id.in_(ids), StaffAction.outcome == REQUESTED)
            .values(outcome=CONFIRMED, finished_at=utcnow())
        )


def confirm_refunds(targets: list[str], refunded: int) -> None:
    """Refunds staff requested on a payment (named by its charge or payment intent in
    `targets`) that Stripe now shows refunded: `refunded` covers them, oldest first.

    Called by the worker as it writes the charge, in the same transaction.
    """
    rows = db.session.execute(
        sa.select(StaffAction.id, StaffAction.amount, StaffAction.outcome)
        .where(
            StaffAction.action == REFUND,
            StaffAction.target.in_([t for t in targets if t]),
            StaffAction.outcome.in_((REQUESTED, CONFIRMED)),
        )
        .order_by(StaffAction.created_at, StaffAction.id)
    ).all()
    covered, confirmed = 0, []
    for row_id, amount, outcome in rows:
        covered += amount or 0
        if outcome == REQUESTED and covered <= refunded:
            confirmed.append(row_id)
    _confirm(confirmed)


def confirm_cancellations(subscription_id: str, status: str, cancel_at_period_end: bool) -> None:
    """Cancellations staff requested on a subscription that Stripe now shows: ended, or
    set to end with its period. Called by the worker as it writes the subscription."""
    kinds = []
    if status == "canceled":
        kinds = [CANCEL_NOW, CANCEL_AT_PERIOD_END]
    elif cancel_at_period_end:
        kinds = [CANCEL_AT_PERIOD_END]
    if not kinds:
        return
    ids = db.session.scalars(
        sa.select(StaffAction.id).where(
            StaffAction.action.in_(kinds),
            StaffAction.target == subscription_id,
            StaffAction.outcome == REQUESTED,
        )
    ).all()
    _confirm(list(ids))
