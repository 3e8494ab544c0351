"""What the appeal page shows: the campaign's copy, the form preselected from a link,
fees, goal."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app, g, render_template, request
from werkzeug.datastructures import MultiDict

from support.appeal import checkout
from support.appeal.copy import default_appeal
from support.appeal.forms import CUSTOM, AppealForm
from support.attribution import Attribution, clean_token
from support.campaigns import live
from support.campaigns.live import LiveCampaign
from support.choices import FREQUENCIES
from support.formatting import format_money_major
from support.money import MINIMUM_GIFT, AmountError, exponent, parse_amount, to_major
from support.stats import figures as stats


def shown_campaign(slug: str | None) -> LiveCampaign | None:
    """The campaign whose appeal this page shows (None: the default appeal)."""
    return live.for_appeal(clean_token(slug), g.lang)


def presets_for(campaign: LiveCampaign | None, currency: str) -> list[Decimal]:
    """The preset amounts (major units): the campaign's for `currency`, else the settings'."""
    amounts = campaign.doc["presets"].get(currency) if campaign else None
    if amounts:
        return [Decimal(str(a)) for a in amounts]
    return current_app.config["SUPPORT_PRESETS"]


def preselect(args, preview: LiveCampaign | None = None) -> MultiDict:
    """Form data from a link's query string: amount, frequency, currency, attribution.

    Anything unusable is ignored rather than refused: a reader following a
    mangled link still gets the page, with the defaults. `preview` is a campaign
    staff are looking at (draft or not), shown instead of the running ones.
    """
    config = current_app.config
    currencies = config["SUPPORT_CURRENCIES"]
    data = MultiDict()
    currency = (args.get("currency") or "").lower()
    data["currency"] = currency if currency in currencies else currencies[0]
    campaign = preview or shown_campaign(args.get("campaign"))
    presets = presets_for(campaign, data["currency"])
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
    elif campaign:
        data["frequency"] = campaign.doc["default_frequency"]
    if args.get("cover_fees") in ("1", "y", "true", "on"):
        data["cover_fees"] = "y"
    data.update(Attribution.from_values(args).as_params())
    if campaign and "campaign" not in data:
        # The page shows a campaign the link did not name: the gift is still its.
        data["campaign"] = campaign.slug
    return data


def amount_to_explain(form: AppealForm, presets: list[Decimal]) -> int | None:
    """The amount the fee note talks about: the valid choice; the first preset when
    nothing is chosen yet; None (no note) while "Other" holds no valid amount, so the
    note never explains an amount the reader did not choose."""
    if form.amount_minor is not None:
        return form.amount_minor
    currency = form.currency.data
    try:
        return parse_amount(
            form.typed_amount(), currency, MINIMUM_GIFT, current_app.config["SUPPORT_MAX_AMOUNT"]
        )
    except AmountError:
        pass
    other_chosen = form.amount.data == CUSTOM or bool((form.amount_other.data or "").strip())
    if other_chosen or not presets:
        return None
    return int(presets[0] * 10 ** exponent(currency))


def appeal_copy(campaign: LiveCampaign | None, first_preset: Decimal, currency: str) -> dict:
    """The headline and paragraphs: the campaign's own words, else the built-in ones."""
    copy = campaign.doc["appeal"][g.lang] if campaign else None
    if not copy or not copy["headline"]:
        copy = default_appeal(format_money_major(first_preset, currency))
    return {
        "headline": copy["headline"],
        "paragraphs": [p for p in copy["body"].split("\n\n") if p],
    }


def goal_progress(campaign: LiveCampaign | None) -> dict[str, int]:
    """`goal` and `supporters` for the page: the campaign's goal (its own supporters), else
    `SUPPORT_GOAL`; goal 0 (not shown) below `SUPPORT_GOAL_MIN_SHOWN` supporters."""
    if campaign:
        target = campaign.doc["goal"]["supporters"] if campaign.doc["goal"] else 0
        supporters = stats.campaign_supporter_count(campaign.slug) if target else 0
    else:
        target = current_app.config["SUPPORT_GOAL"]
        supporters = stats.public_supporter_count() if target else 0
    if supporters < current_app.config["SUPPORT_GOAL_MIN_SHOWN"]:
        target = 0  # "3 of 1,000" at launch discourages more than it invites
    return {"goal": target, "supporters": supporters}


def switch_args() -> dict[str, str]:
    """What the language switch link carries over: the choice and clean attribution."""
    kept = {k: request.args[k] for k in ("amount", "frequency", "currency") if k in request.args}
    return {**kept, **Attribution.from_values(request.args).as_params()}


def render_appeal(
    form: AppealForm,
    cancelled: bool = False,
    stripe_error: bool = False,
    throttled: bool = False,
    busy: bool = False,
    preview: LiveCampaign | None = None,
) -> str:
    """The appeal page with `form` (fresh, preselected, with errors, or refused for now).

    With `preview`, the page shows that campaign whatever its status (staff preview).
    """
    config = current_app.config
    if form.currency.data not in config["SUPPORT_CURRENCIES"]:
        # A code we do not take (an edited form) has no prices to show: draw the
        # form in the default currency, so it can be sent again; its error stays.
        form.currency.data = config["SUPPORT_CURRENCIES"][0]
    currency = form.currency.data
    campaign = preview or shown_campaign(form.campaign.data)
    presets = presets_for(campaign, currency)
    amount = amount_to_explain(form, presets)
    return render_template(
        "appeal/appeal.html",
        form=form,
        copy=appeal_copy(campaign, presets[0] if presets else MINIMUM_GIFT, currency),
        presets=[(str(p), int(p * 10 ** exponent(currency))) for p in presets],
        custom=CUSTOM,
        fee_amount=amount,
        fees=checkout.fee_summary(amount) if amount is not None else None,
        yearly_fees=checkout.fee_summary(amount * 12) if amount is not None else None,
        # appeal.js explains the fee only for an amount the server would take.
        amount_range=(MINIMUM_GIFT, config["SUPPORT_MAX_AMOUNT"]),
        fee_terms=checkout.fee_terms(),
        exponent=exponent(currency),
        **goal_progress(campaign),
        cancelled=cancelled,
        stripe_error=stripe_error,
        throttled=throttled,
        busy=busy,
        switch_args=switch_args(),
    )
