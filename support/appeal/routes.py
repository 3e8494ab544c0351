"""Reader pages: `/`, `/<lang>/`, checkout, thanks and cancelled."""

from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from support import checkout, stats
from support.appeal import bp
from support.appeal.forms import CUSTOM, AppealForm
from support.attribution import Attribution
from support.i18n import best_language
from support.money import AmountError, exponent, parse_amount, to_major
from support.stripe_api import StripeUnavailable


@bp.get("/")
def root():
    """Send the reader to their language's appeal, keeping the query string."""
    target = url_for("appeal.appeal", lang=best_language())
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, code=302)


def _preselect(args) -> MultiDict:
    """Form data from a link's query string: amount, frequency, currency, attribution."""
    config = current_app.config
    data = MultiDict()
    currency = (args.get("currency") or "").lower()
    data["currency"] = (
        currency if currency in config["SUPPORT_CURRENCIES"] else config["SUPPORT_CURRENCIES"][0]
    )
    presets = [str(p) for p in config["SUPPORT_PRESETS"]]
    data["amount"] = presets[0] if presets else CUSTOM
    amount = args.get("amount", "")
    try:
        minor = parse_amount(amount, data["currency"], 1, config["SUPPORT_MAX_AMOUNT"])
    except AmountError:
        minor = None
    if minor is not None:
        major = to_major(minor, data["currency"])
        match = next((p for p in config["SUPPORT_PRESETS"] if p == major), None)
        if match is not None:
            data["amount"] = str(match)
        else:
            data["amount"], data["amount_other"] = CUSTOM, amount
    if args.get("frequency") in ("month", "year", "once"):
        data["frequency"] = args["frequency"]
    if args.get("cover_fees") in ("1", "y", "true", "on"):
        data["cover_fees"] = "y"
    data.update(Attribution.from_values(args).as_params())
    return data


def render_appeal(form: AppealForm, cancelled: bool = False, stripe_error: bool = False) -> str:
    """The appeal page with `form` (fresh, preselected, or with errors)."""
    presets = current_app.config["SUPPORT_PRESETS"]
    currency = form.currency.data
    shown = form.amount_minor or checkout_amount_guess(form)
    context = {
        "form": form,
        "presets": [(str(p), int(p * 10 ** exponent(currency))) for p in presets],
        "custom": CUSTOM,
        "fees": checkout.fee_summary(shown),
        "fee_amount": shown,
        "yearly_fees": checkout.fee_summary(shown * 12),
        "fee_terms": checkout.fee_terms(),
        "exponent": exponent(currency),
        "goal": current_app.config["SUPPORT_GOAL"],
        "supporters": stats.active_supporters(),
        "cancelled": cancelled,
        "stripe_error": stripe_error,
        "switch_args": _switch_args(),
    }
    return render_template("appeal/appeal.html", **context)


def _switch_args() -> dict[str, str]:
    """What the language switch link carries over: the choice and clean attribution."""
    kept = {k: request.args[k] for k in ("amount", "frequency", "currency") if k in request.args}
    return {**kept, **Attribution.from_values(request.args).as_params()}


def checkout_amount_guess(form: AppealForm) -> int:
    """The amount to explain fees for before the form was submitted."""
    try:
        return parse_amount(
            form.typed_amount(), form.currency.data, 1, current_app.config["SUPPORT_MAX_AMOUNT"]
        )
    except AmountError:
        presets = current_app.config["SUPPORT_PRESETS"]
        return int((presets[0] if presets else 1) * 10 ** exponent(form.currency.data))


@bp.get("/<lang>/")
def appeal(lang=None):
    """The appeal: preset and custom amounts, frequency, fees, goal progress."""
    return render_appeal(AppealForm(formdata=_preselect(request.args)))


@bp.post("/<lang>/checkout")
def start_checkout(lang=None):
    """Validate the choice and send the reader to Stripe Checkout (303)."""
    form = AppealForm()
    if not form.validate():
        return render_appeal(form), 400
    choice = checkout.Choice(
        amount=form.amount_minor,
        currency=form.currency.data,
        frequency=form.frequency.data,
        cover_fees=bool(form.cover_fees.data),
        lang=g.lang,
        attribution=Attribution.from_values(request.form),
        email=(form.email.data or "").strip() or None,
        form_token=form.form_token.data,
    )
    try:
        url = checkout.start_checkout(choice)
    except StripeUnavailable:
        # The same form, same token: pressing the button again is safe.
        return render_appeal(form, stripe_error=True), 502
    return redirect(url, code=303)


@bp.get("/<lang>/thanks")
def thanks(lang=None):
    """Thank the reader; say whether Stripe has confirmed the payment yet."""
    attempt = checkout.find_attempt(request.args.get("session_id"))
    if attempt is None:
        abort(404)
    back = f"{attempt.source}#supported" if attempt.source else None
    return render_template(
        "appeal/thanks.html",
        attempt=attempt,
        confirmed=checkout.is_confirmed(attempt),
        back_url=back,
        manage_url=manage_url(attempt)
        if "manage.request_link" in current_app.view_functions
        else None,
    )


def manage_url(attempt) -> str:
    """Where "manage my support" leads: the portal itself for a fresh, completed gift."""
    from support.manage.links import thanks_manage_url

    return thanks_manage_url(attempt)


@bp.get("/<lang>/cancelled")
def cancelled(lang=None):
    """Checkout abandoned: the appeal again, with the reader's choice kept."""
    return render_appeal(AppealForm(formdata=_preselect(request.args)), cancelled=True)
