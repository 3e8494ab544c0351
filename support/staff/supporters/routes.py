"""Staff pages about supporters: the list, one supporter, the CSV and erasure.

(Refunds, cancellations and mails sent again are in `action_routes`.)"""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from support.extensions import db
from support.models import Supporter, utcnow
from support.privacy.erasure import erase_committed
from support.staff import bp
from support.staff.auth.access import admin_required, staff_required
from support.staff.forms import EraseForm
from support.staff.insights.events import pretty_payload
from support.staff.supporters import actions, changes, csv_export
from support.staff.supporters import queries as supporters
from support.stripe_api import StripeUnavailable


@bp.get("/supporters")
@staff_required
def supporter_list():
    """Search by email or name, filter by status, currency and interval; 25 a page."""
    filters = supporters.Filters.from_args(request.args)
    currencies = current_app.config["SUPPORT_CURRENCIES"]
    rows, has_next = supporters.search(filters)
    return render_template(
        "staff/supporters.html",
        rows=rows,
        shared=supporters.shared_addresses([row[0].email for row in rows]),
        has_next=has_next,
        filters=filters,
        statuses=supporters.STATUSES,
        intervals=supporters.INTERVALS,
        # Configured currencies, and the one asked for even if no longer offered.
        currencies=sorted({*currencies, *([filters.currency] if filters.currency else [])}),
    )


@bp.get("/supporters.csv")
@staff_required
def supporter_csv():
    """The supporters the list's filters match (all without), as CSV, streamed
    (contract columns, formulas neutralised); `excel=1` adds a byte-order mark."""
    filters = supporters.Filters.from_args(request.args)
    excel = request.args.get("excel") == "1"
    filename = f"supporters-{utcnow():%Y-%m-%d}{'-excel' if excel else ''}.csv"
    return Response(
        stream_with_context(csv_export.generate(filters, excel=excel)),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _detail(supporter: Supporter, form: EraseForm) -> str:
    history = supporters.history(supporter)
    staff_actions = actions.recent(supporter)
    return render_template(
        "staff/supporter.html",
        supporter=supporter,
        history=history,
        same_address=supporters.same_address(supporter),
        status=supporters.status_of(history.subscriptions),
        form=form,
        pretty=pretty_payload,
        staff_actions=staff_actions,
        shown=actions.shown(staff_actions),
        supporter_changes=changes.of_supporter(supporter),
        change_labels=changes,
        mails=actions.mails(supporter),
        refundable=actions.refundable,
        cancellable=actions.cancellable,
        resendable=actions.RESENDABLE,
    )


@bp.get("/supporters/<int:supporter_id>")
@staff_required
def supporter_detail(supporter_id: int):
    """One supporter: subscriptions, payments and the Stripe events that name them."""
    return _detail(db.get_or_404(Supporter, supporter_id), EraseForm())


@bp.post("/supporters/<int:supporter_id>/erase")
@admin_required
def supporter_erase(supporter_id: int):
    """Remove the supporter's name and email (admins only); amounts stay for the books."""
    supporter = db.get_or_404(Supporter, supporter_id)
    form = EraseForm()
    if not form.validate():
        if form.csrf_token.errors:
            abort(400)
        return _detail(supporter, form), 400
    try:
        erased = erase_committed(supporter, delete_stripe_customer=form.delete_stripe_customer.data)
    except StripeUnavailable:
        flash(_("Stripe did not delete the customer, so nothing was erased. Try again."), "error")
        return redirect(url_for("staff.supporter_detail", supporter_id=supporter_id), 303)
    if len(erased) > 1:
        # One person, several Stripe customers: every record with their address went.
        flash(
            _(
                "The personal data of %(count)s supporter records with this address was erased.",
                count=len(erased),
            )
        )
    else:
        flash(_("The supporter's personal data was erased."))
    return redirect(url_for("staff.supporter_detail", supporter_id=supporter_id), 303)
