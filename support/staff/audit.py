"""The audit page's rows: staff actions newest first, filtered, paginated, and worded.

The rows are `staff_action` (recorded by `support.audit` and
`support.staff.supporters.queries.actions`); what each says is worded here, in the reader's
language, from codes stored in the row, so one row reads right in English
and in Arabic.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from support import audit
from support.extensions import db
from support.models import StaffAction
from support.staff.forms import role_choices
from support.staff.supporters.actions import Shown, shown

PER_PAGE = 50
# The staff filter's value for what was done from the command line.
COMMAND_LINE = "command-line"

KIND_LABELS = {
    audit.REFUND: _l("Refund"),
    audit.CANCEL_NOW: _l("Cancellation, at once"),
    audit.CANCEL_AT_PERIOD_END: _l("Cancellation, at period end"),
    audit.RESEND_MAIL: _l("Mail sent again"),
    audit.ERASE: _l("Erasure"),
    audit.INVITE: _l("Invitation"),
    audit.CREATE_ACCOUNT: _l("Account created"),
    audit.ROLE: _l("Role change"),
    audit.DEACTIVATE: _l("Deactivation"),
    audit.REACTIVATE: _l("Reactivation"),
    audit.TWO_FACTOR_RESET: _l("Two-step sign-in reset"),
    audit.TWO_FACTOR_OFF: _l("Two-step sign-in turned off"),
    audit.CAMPAIGN_PUBLISH: _l("Campaign published"),
    audit.CAMPAIGN_END: _l("Campaign ended"),
    audit.CAMPAIGN_REVERT: _l("Campaign reverted"),
    audit.REPLAY: _l("Webhook replayed"),
    audit.UPGRADE_ASK: _l("Upgrade ask sent"),
}
ERASURE_DETAILS = {
    audit.STRIPE_CUSTOMER_DELETED: _l("The Stripe customer was deleted too."),
    audit.STRIPE_UNAVAILABLE: _l("Stripe did not delete the customer, so nothing was erased."),
    audit.ALREADY_ERASED: _l("It had been erased before."),
}
SUPPORTER_KINDS = (audit.REFUND, audit.CANCEL_NOW, audit.CANCEL_AT_PERIOD_END, audit.RESEND_MAIL)
CAMPAIGN_KINDS = (audit.CAMPAIGN_PUBLISH, audit.CAMPAIGN_END, audit.CAMPAIGN_REVERT)


@dataclass
class Entry:
    """One row as the page shows it."""

    row: StaffAction
    kind: str
    who: str | None  # None: the command line
    target: str
    url: str | None
    detail: str | None
    outcome: str


@dataclass
class AuditPage:
    entries: list[Entry]
    has_next: bool


def staff_members() -> list[str]:
    """The staff emails the filter offers: everyone who has a row."""
    query = sa.select(StaffAction.staff_email).where(StaffAction.staff_email.is_not(None))
    return sorted(db.session.scalars(query.distinct()))


def _filtered(kind: str | None, who: str | None) -> sa.Select:
    query = sa.select(StaffAction)
    if kind:
        query = query.where(StaffAction.action == kind)
    if who == COMMAND_LINE:
        query = query.where(StaffAction.staff_email.is_(None))
    elif who:
        query = query.where(StaffAction.staff_email == who)
    return query


def page(kind: str | None, who: str | None, number: int) -> AuditPage:
    """Page `number` of the rows matching the filters, newest first."""
    rows = list(
        db.session.scalars(
            _filtered(kind, who)
            .order_by(StaffAction.created_at.desc(), StaffAction.id.desc())
            .offset((number - 1) * PER_PAGE)
            .limit(PER_PAGE + 1)
        )
    )
    rows, more = rows[:PER_PAGE], len(rows) > PER_PAGE
    on_supporters = shown([r for r in rows if r.action in SUPPORTER_KINDS])
    return AuditPage([describe(r, on_supporters.get(r.id)) for r in rows], more)


def _role(name: str) -> str:
    return str(dict(role_choices()).get(name, name))


def _detail(row: StaffAction) -> str | None:
    """What else the row says, in the page's language; a failure's own text as stored."""
    parts = (row.detail or "").split(":")
    if row.action == audit.ERASE:
        label = ERASURE_DETAILS.get(row.detail or "")
        return str(label) if label else None
    if row.action in (audit.INVITE, audit.CREATE_ACCOUNT) and row.detail:
        return _("as %(role)s", role=_role(row.detail))
    if row.action == audit.ROLE and len(parts) == 2:
        return _("from %(old)s to %(new)s", old=_role(parts[0]), new=_role(parts[1]))
    if row.action in (audit.CAMPAIGN_PUBLISH, audit.CAMPAIGN_END) and row.detail:
        return _("version %(version)s", version=row.detail)
    if row.action == audit.CAMPAIGN_REVERT and len(parts) == 2:
        return _("version %(old)s saved again as version %(new)s", old=parts[0], new=parts[1])
    if row.action == audit.UPGRADE_ASK:
        return None
    if row.action == audit.REPLAY and row.detail:
        return _("now %(status)s", status=row.detail)
    return row.detail


def describe(row: StaffAction, shown: Shown | None = None) -> Entry:
    """The row in words: its kind, who, on what (with a link where there is a page);
    `shown`: a supporter action's outcome now and its words (`actions.shown`)."""
    target, url = row.target, None
    detail, outcome = _detail(row), row.outcome
    if shown is not None:
        target, detail, outcome = shown.target, shown.detail, shown.outcome
    if row.action == audit.ERASE:
        target = _("1 supporter erased (#%(id)s)", id=row.supporter_id)
    if row.supporter_id is not None:
        url = url_for("staff.supporter_detail", supporter_id=row.supporter_id)
    elif row.action in CAMPAIGN_KINDS:
        url = url_for("staff.campaign_history", slug=row.target)
    elif row.action == audit.REPLAY:
        url = url_for("staff.events")
    elif row.action == audit.UPGRADE_ASK and row.detail and row.detail.isdigit():
        url = url_for("staff.ask_detail", ask_id=int(row.detail))
    kind = KIND_LABELS.get(row.action)
    return Entry(
        row=row,
        kind=str(kind) if kind else row.action,
        who=row.staff_email,
        target=target,
        url=url,
        detail=detail,
        outcome=outcome,
    )


def kind_choices() -> list[tuple[str, str]]:
    """The filter's kinds, worded."""
    return [(kind, str(KIND_LABELS[kind])) for kind in audit.KINDS]
