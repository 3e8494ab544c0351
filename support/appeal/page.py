"""What the appeal page shows: the form preselected from a link, fees, goal."""

from __future__ import annotations

from flask import current_app, render_template, request
from werkzeug.datastructures import MultiDict

from support import checkout, stats
from support.appeal.forms import CUSTOM, AppealForm
from support.attribution import Attribution
from support.config import FREQUENCIES
from support.money import MINIMUM_GIFT, AmountError, exponent, parse_amount, to_major


def preselect(args) -> MultiDict:
    """Form data from a link's query string: amount, frequency, currency, attribution.

    Anything unusable is ignored rather than refused: a reader following a
    mangled link still gets the page, with the defaults.
    """
    config = current_app.config
    currencies = config["SUPPORT_CURRENCIES"]
    data = MultiDict()
    currency = (args.get("currency") or "").lower()
    data["currency"] = currency if currency in currencies else currencies[0]
    presets = config["SUPPORT_PRESETS"]
    data["amount"] = str(presets[0]) if presets else CUSTOM
    amount = args.get("amount", "")
    try:
        minor = parse_amount(amount, data["currency"], MINIMUM_GIFT, config["SUPPORT_MAX_AMOUNT"])
    except AmountError:
        minor = None
    if minor is not None:
        major = to_major(minor, data["currency"])
        preset = next((p for p in presets if p == major), None)
        if preset is not None:
            data["amount"] = str(preset)
        else:
            data["amount"], data["amount_other"] = CUSTOM, amount
    if args.get("frequency") in FREQUENCIES:
        data["frequency"] = args["frequency"]
    if args.get("cover_fees") in ("1", "y", "true", "on"):
        data["cover_fees"] = "y"
    data.update(Attribution.from_values(args).as_params())
    return data


def amount_to_explain(form: AppealForm) -> int:
    """The amount the fee note talks about: the valid choice, else the first preset."""
    if form.amount_minor is not None:
        return form.amount_minor
    currency = form.currency.data
    try:
        return parse_amount(
            form.typed_amount(), currency, MINIMUM_GIFT, current_app.config["SUPPORT_MAX_AMOUNT"]
        )
    except AmountError:
        presets = current_app.config["SUPPORT_PRESETS"]
        return int((presets[0] if presets else MINIMUM_GIFT) * 10 ** exponent(currency))


def goal_progress() -> dict[str, int]:
    """`goal` and `supporters` for the page; goal 0 (not shown) below SUPPORT_GOAL_MIN_SHOWN."""
    config = current_app.config
    goal = config["SUPPORT_GOAL"]
    supporters = stats.public_supporter_count() if goal else 0
    if supporters < config.get("SUPPORT_GOAL_MIN_SHOWN", 0):
        goal = 0  # "3 of 1,000" at launch discourages more than it invites
    return {"goal": goal, "supporters": supporters}


def switch_args() -> dict[str, str]:
    """What the language switch link carries over: the choice and clean attribution."""
    kept = {k: request.args[k] for k in ("amount", "frequency", "currency") if k in request.args}
    return {**kept, **Attribution.from_values(request.args).as_params()}


def render_appeal(
    form: AppealForm, cancelled: bool = False, stripe_error: bool = False, throttled: bool = False
) -> str:
    """The appeal page with `form` (fresh, preselected, with errors, or refused for now)."""
    config = current_app.config
    if form.currency.data not in config["SUPPORT_CURRENCIES"]:
        # A code we do not take (an edited form) has no prices to show: draw the
        # form in the default currency, so it can be sent again; its error stays.
        form.currency.data = config["SUPPORT_CURRENCIES"][0]
    currency = form.currency.data
    amount = amount_to_explain(form)
    return render_template(
        "appeal/appeal.html",
        form=form,
        presets=[(str(p), int(p * 10 ** exponent(currency))) for p in config["SUPPORT_PRESETS"]],
        custom=CUSTOM,
        fee_amount=amount,
        fees=checkout.fee_summary(amount),
        yearly_fees=checkout.fee_summary(amount * 12),
        fee_terms=checkout.fee_terms(),
        exponent=exponent(currency),
        **goal_progress(),
        cancelled=cancelled,
        stripe_error=stripe_error,
        throttled=throttled,
        switch_args=switch_args(),
    )
