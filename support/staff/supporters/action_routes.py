"""Admins acting on a supporter: refund, cancel, send a mail again (see actions.py).

Each action is a confirmation page (GET) and its form (POST, CSRF token, a
box to tick); viewers get 403 for both. A Stripe failure brings the page back
with Stripe's reason and the same form, so pressing again is safe; the ledger
and the dashboard follow from Stripe's webhook, and the flash message says so.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from support import stripe_api
from support.extensions import db
from support.formatting import format_money
from support.models import OutboundEmail, Payment, StaffAction, Subscription, Supporter
from support.money import AmountError, exponent, parse_amount, to_major
from support.staff import bp
from support.staff.auth.access import admin_required
from support.staff.forms import CancelForm, ConfirmedActionForm, RefundForm, ResendForm
from support.staff.mail_labels import mail_label
from support.staff.stripe_links import dashboard_url
from support.staff.supporters import actions
from support.stripe_api import StripeUnavailable

log = logging.getLogger(__name__)


@bp.context_processor
def stripe_links() -> dict:
    """`stripe_url(id)` in staff templates: the object's page in Stripe's dashboard (or
    the emulator's); `mail_label(kind)`: a kind of mail in words."""
    return {"stripe_url": dashboard_url, "mail_label": mail_label}


def _owned(model, row_id: int, supporter: Supporter):
    """`model` row `row_id` of this supporter, else 404."""
    row = db.get_or_404(model, row_id)
    if row.supporter_id != supporter.id:
        abort(404)
    return row


def _back(supporter_id: int):
    return redirect(url_for("staff.supporter_detail", supporter_id=supporter_id), 303)


def _invalid(form: ConfirmedActionForm) -> None:
    """A form without its CSRF token or one-time token is not ours: 400 without a page."""
    if form.csrf_token.errors or form.token.errors:
        abort(400)


def _already_sent(row: StaffAction):
    flash(
        _(
            "That confirmation was already sent (%(time)s UTC); nothing was done twice.",
            time=row.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    )
    return _back(row.supporter_id)


def stripe_error_text(error: StripeUnavailable) -> str:
    """What to tell the admin when Stripe did not do it."""
    if error.stripe_message and not error.transient:
        return _("Stripe refused: %(reason)s", reason=error.stripe_message)
    if error.stripe_message:
        return _(
            "Stripe could not do it right now (%(reason)s). Nothing was changed; "
            "press the button again in a moment.",
            reason=error.stripe_message,
        )
    return _(
        "Stripe did not answer. Press the button again: Stripe recognises this "
        "request, so it is not done twice."
    )


def _stripe_failed(row: StaffAction, supporter: Supporter, error: StripeUnavailable) -> str:
    log.warning("Staff action %s (%s on %s) failed: %s", row.id, row.action, row.target, error)
    db.session.rollback()
    text = stripe_error_text(error)
    actions.failed(row, supporter, error.stripe_message or str(error))
    return text


# Refund


def _amount_error(code: str, currency: str, left: int) -> str:
    if code == "missing":
        return _("Enter the amount to refund.")
    if code == "too_many_decimals":
        return _(
            "%(currency)s amounts have at most %(places)s decimals.",
            currency=currency.upper(),
            places=exponent(currency),
        )
    if code == "too_small":
        return _("The amount must be more than zero.")
    if code == "too_large":
        return _(
            "That is more than the %(left)s left to refund of this payment.",
            left=format_money(left, currency),
        )
    return _("Enter the amount in digits, like 5 or 2.50.")


def parse_refund(text: str, currency: str, left: int) -> int:
    """The amount typed, in minor units; AmountError unless 0 < amount ≤ what is left."""
    smallest = Decimal(1).scaleb(-exponent(currency))
    return parse_amount(text, currency, minimum=smallest, maximum=to_major(left, currency))


def _refund_page(supporter, payment, form, left, error=None, status=200):
    return (
        render_template(
            "staff/refund.html",
            supporter=supporter,
            payment=payment,
            form=form,
            left=left,
            error=error,
        ),
        status,
    )


@bp.route(
    "/supporters/<int:supporter_id>/payments/<int:payment_id>/refund", methods=["GET", "POST"]
)
@admin_required
def refund_payment(supporter_id: int, payment_id: int):
    """Refund all or part of a payment at Stripe, after confirmation (admins only)."""
    supporter = db.get_or_404(Supporter, supporter_id)
    payment = _owned(Payment, payment_id, supporter)
    left = actions.refundable(payment)
    form = RefundForm()
    if not form.is_submitted():
        form.token.data = actions.new_token()
        form.currency.data = payment.currency
        form.amount.data = str(to_major(left, payment.currency)) if left else ""
        return _refund_page(supporter, payment, form, left)
    if not form.validate():
        _invalid(form)
        return _refund_page(supporter, payment, form, left, status=400)
    if not left:
        error = _("Nothing is left to refund of this payment.")
        return _refund_page(supporter, payment, form, left, error, 409)
    if form.currency.data != payment.currency:
        form.amount.errors.append(
            _(
                "This payment is in %(currency)s; the form was for another currency. "
                "Check the amount and confirm again.",
                currency=payment.currency.upper(),
            )
        )
        form.currency.data = payment.currency
        return _refund_page(supporter, payment, form, left, status=400)
    try:
        amount = parse_refund(form.amount.data, payment.currency, left)
    except AmountError as problem:
        form.amount.errors.append(_amount_error(problem.code, payment.currency, left))
        return _refund_page(supporter, payment, form, left, status=400)
    target, currency = actions.refund_target(payment), payment.currency
    started = actions.begin(supporter, actions.REFUND, target, form.token.data, amount, currency)
    if not started.new:
        return _already_sent(started.row)
    try:
        refund = stripe_api.create_refund(target, amount, started.key, form.reason.data or None)
    except StripeUnavailable as error:
        text = _stripe_failed(started.row, supporter, error)
        return _refund_page(supporter, payment, form, left, text, 502)
    actions.finish_requested(started.row, refund.get("id"))
    log.info("Staff refund of %s %s of %s (action %s)", amount, currency, target, started.row.id)
    flash(
        _(
            "Refund of %(amount)s requested; the ledger and the dashboard update when "
            "Stripe confirms it, usually within seconds.",
            amount=format_money(amount, currency),
        )
    )
    return _back(supporter_id)


# Cancel


def _cancel_page(supporter, subscription, form, error=None, status=200):
    return (
        render_template(
            "staff/cancel.html",
            supporter=supporter,
            subscription=subscription,
            form=form,
            error=error,
        ),
        status,
    )


@bp.route(
    "/supporters/<int:supporter_id>/subscriptions/<int:subscription_id>/cancel",
    methods=["GET", "POST"],
)
@admin_required
def cancel_subscription(supporter_id: int, subscription_id: int):
    """End a subscription at Stripe, now or at the period's end, after confirmation."""
    supporter = db.get_or_404(Supporter, supporter_id)
    subscription = _owned(Subscription, subscription_id, supporter)
    form = CancelForm()
    if subscription.cancel_at_period_end:  # already ends with its period: only "now" is left
        form.when.choices = [choice for choice in form.when.choices if choice.value == "now"]
        form.when.default = "now"
    if not form.is_submitted():
        form.token.data = actions.new_token()
        form.when.data = form.when.default
        return _cancel_page(supporter, subscription, form)
    if not form.validate():
        _invalid(form)
        return _cancel_page(supporter, subscription, form, status=400)
    if not actions.cancellable(subscription):
        error = _("This subscription has already ended.")
        return _cancel_page(supporter, subscription, form, error, 409)
    at_period_end = form.when.data == "period_end"
    action = actions.CANCEL_AT_PERIOD_END if at_period_end else actions.CANCEL_NOW
    target = subscription.stripe_id
    started = actions.begin(supporter, action, target, form.token.data)
    if not started.new:
        return _already_sent(started.row)
    try:
        stripe_api.cancel_subscription(target, at_period_end, started.key)
    except StripeUnavailable as error:
        text = _stripe_failed(started.row, supporter, error)
        return _cancel_page(supporter, subscription, form, text, 502)
    actions.finish_requested(started.row)
    log.info("Staff cancel of %s (%s, action %s)", target, action, started.row.id)
    if at_period_end:
        message = _(
            "Cancellation of %(subscription)s at the end of its period requested; the ledger "
            "and the dashboard update when Stripe confirms it, usually within seconds.",
            subscription=target,
        )
    else:
        message = _(
            "Cancellation of %(subscription)s, effective now, requested; the ledger and the "
            "dashboard update when Stripe confirms it, usually within seconds.",
            subscription=target,
        )
    flash(message)
    return _back(supporter_id)


# Send a mail again


def _resend_page(supporter, mail, form, error=None, status=200):
    return (
        render_template(
            "staff/resend.html", supporter=supporter, mail=mail, form=form, error=error
        ),
        status,
    )


@bp.route("/supporters/<int:supporter_id>/mails/<int:mail_id>/resend", methods=["GET", "POST"])
@admin_required
def resend_mail(supporter_id: int, mail_id: int):
    """Send a thank-you mail (the supporter's receipt) again, after confirmation."""
    supporter = db.get_or_404(Supporter, supporter_id)
    mail = _owned(OutboundEmail, mail_id, supporter)
    if mail.kind not in actions.RESENDABLE:
        abort(404)
    form = ResendForm()
    if not form.is_submitted():
        form.token.data = actions.new_token()
        return _resend_page(supporter, mail, form)
    if not form.validate():
        _invalid(form)
        return _resend_page(supporter, mail, form, status=400)
    if supporter.erased_at is not None or not supporter.email:
        error = _("This supporter has no email address any more.")
        return _resend_page(supporter, mail, form, error, 409)
    started = actions.begin(supporter, actions.RESEND_MAIL, mail.key, form.token.data)
    if not started.new:
        return _already_sent(started.row)
    actions.resend(mail, supporter, started.row, form.token.data)
    log.info("Staff resend of mail %s (action %s)", mail.id, started.row.id)
    flash(_("The thank-you mail will be sent again to %(email)s in a moment.",
            email=supporter.email))  # fmt: skip
    return _back(supporter_id)
