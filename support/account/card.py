"""`/<lang>/account/card/...`: updating the card of a recurring gift, on our own pages.

Thin views over `card_update`: the account page's button (a POST for one
gift) makes a SetupIntent and sends the browser to the card page, which
mounts Stripe's Payment Element in the page's language (support/static/js/
card.js); Stripe.js comes back to the return page, which makes the card the
gift's default. Only a browser that may act for the gift's supporter
(`supporter_access.may_act_for`) gets anywhere: without any proof the page
offers a new link (401), with proof for someone else it is refused (403).

Also the template globals the account page's card and payment blocks read.
"""

from __future__ import annotations

import secrets

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_wtf import FlaskForm

from support.account import bp, card_update, cards, payments
from support.errors import busy_page
from support.extensions import db
from support.manage import browser_checkouts, supporter_access
from support.manage.forms import ManageForm
from support.models import Subscription, Supporter
from support.security import stripe_js_policy
from support.stripe_api import StripeBusy, StripeUnavailable


@bp.app_template_global()
def account_gift_cards(supporter_id: int) -> list[cards.GiftCard]:
    """The account page's recurring gifts with their cards (from the ledger)."""
    return cards.gift_cards(supporter_id)


@bp.app_template_global()
def account_past_payments(supporter_id: int) -> list[payments.PastPayment]:
    """The account page's past payments (from the ledger)."""
    return payments.past_payments(supporter_id)


@bp.app_template_global()
def card_form_nonce() -> str:
    """A fresh nonce for one rendered "update card" form: one SetupIntent per form."""
    return secrets.token_urlsafe(16)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _closed():
    """No supporter session and no paying browser: the page offering a new link (401)."""
    page = render_template("account/closed.html", form=ManageForm())
    return _no_store(make_response(page, 401))


def _has_proof() -> bool:
    """Whether this browser proved anything: a supporter session, or a gift it paid."""
    if supporter_access.current_session() is not None:
        return True
    started = browser_checkouts.started()
    return any(supporter_access.paying_supporter(s) is not None for s in started)


def _allowed(supporter: Supporter | None):
    """None when this browser may act for `supporter`; else the response refusing it:
    the closed page (401) without any proof, 403 with proof for someone else."""
    if supporter is not None and supporter_access.may_act_for(supporter.id) is not None:
        return None
    if not _has_proof():
        return _closed()
    abort(403)


def _stripe_trouble(error: StripeUnavailable, retry_url: str):
    """Stripe busy (503) or not answering (502), in the page's language."""
    if isinstance(error, StripeBusy):
        return _no_store(busy_page(error))
    page = render_template("account/card_unavailable.html", retry_url=retry_url)
    return _no_store(make_response(page, 502))


def _not_found():
    page = render_template("account/card_not_found.html")
    return _no_store(make_response(page, 404))


@bp.post("/<lang>/account/card")
def card_start(lang=None):
    """Start updating one gift's card: a SetupIntent, then the card page (303)."""
    try:
        subscription_id = int(request.form.get("subscription", ""))
    except ValueError:
        abort(400)
    subscription = db.session.get(Subscription, subscription_id)
    supporter = db.session.get(Supporter, subscription.supporter_id) if subscription else None
    refused = _allowed(supporter)
    if refused is not None:
        return refused
    if not card_update.updatable(subscription):
        page = render_template("account/card_ended.html")
        return _no_store(make_response(page, 409))
    nonce = request.form.get("nonce") or secrets.token_urlsafe(16)
    try:
        setup_id = card_update.start(supporter, subscription, nonce[:64])
    except StripeUnavailable as error:
        return _stripe_trouble(error, url_for("account.account"))
    return _no_store(redirect(url_for("account.card_page", setup_id=setup_id), code=303))


def _setup(setup_id: str):
    """The SetupIntent and its gift, or the response saying why not.

    A browser without any proof is answered before Stripe is asked anything.
    """
    if not _has_proof():
        return None, _closed()
    try:
        setup = card_update.read(setup_id)
    except card_update.NotFound:
        return None, _not_found()
    except StripeUnavailable as error:
        return None, _stripe_trouble(error, request.full_path.rstrip("?"))
    refused = _allowed(setup.supporter)
    return (None, refused) if refused is not None else (setup, None)


@bp.get("/<lang>/account/card/<setup_id>")
def card_page(setup_id: str, lang=None):
    """The Payment Element for the SetupIntent, in the page's language."""
    setup, refused = _setup(setup_id)
    if refused is not None:
        return refused
    if setup.status == "succeeded":
        return _no_store(redirect(url_for("account.card_done", setup_id=setup_id), code=303))
    current = cards.gift_cards(setup.supporter.id)
    gift = next((c for c in current if c.subscription_id == setup.subscription.id), None)
    page = render_template(
        "account/card.html",
        setup=setup,
        gift=gift,
        client_secret=setup.intent["client_secret"],
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
        return_url=url_for("account.card_done", setup_id=setup_id, _external=True),
        format_date=format_date,
    )
    response = make_response(page)
    response.headers["Content-Security-Policy"] = stripe_js_policy()
    return _no_store(response)


@bp.get("/<lang>/account/card/<setup_id>/done")
def card_done(setup_id: str, lang=None):
    """Where Stripe.js returns: the new card made the gift's default, or why not."""
    setup, refused = _setup(setup_id)
    if refused is not None:
        return refused
    if setup.status != "succeeded":
        page = render_template(
            "account/card_failed.html", setup=setup, code=setup.error_code, form=FlaskForm()
        )
        return _no_store(make_response(page, 409))
    try:
        outcome = card_update.finish(setup)
    except StripeUnavailable as error:
        return _stripe_trouble(error, request.full_path.rstrip("?"))
    if outcome.card is not None:
        cards.remember_new_card(setup.subscription.stripe_id, outcome.card)
    page = render_template("account/card_done.html", outcome=outcome, setup=setup)
    return _no_store(make_response(page))
