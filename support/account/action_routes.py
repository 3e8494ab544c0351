"""`/<lang>/account/gifts/<id>/<action>`: a supporter's changes to one gift.

Each action is a page that says what will happen and asks for a yes (GET changes
nothing), and a POST (CSRF) that asks Stripe through `actions.request_change`,
then goes back to the account page, which says the change is on its way until
the webhook shows it. Without a supporter session: the closed page (401); a gift
this browser may not act for: 403; bad input: 400 with the form and its message;
Stripe busy: 503, Stripe failing: 502, each in the page's language.
"""

from __future__ import annotations

from decimal import Decimal

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date

from support.account import actions, bp
from support.account.forms import (
    REASON_LABELS,
    AmountForm,
    CancelForm,
    ConfirmForm,
    PauseForm,
)
from support.appeal.forms import CUSTOM
from support.errors import busy_page
from support.extensions import db
from support.manage import supporter_access
from support.manage.forms import ManageForm
from support.models import Subscription
from support.money import exponent
from support.stripe_api import StripeBusy, StripeNotFound, StripeUnavailable

FORMS = {
    "amount": AmountForm,
    "pause": PauseForm,
    "resume": ConfirmForm,
    "cancel": CancelForm,
    "keep": ConfirmForm,
}


class Closed(Exception):
    """No live supporter session in this browser."""


def _no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def _gift(gift_id: int) -> Subscription:
    """The gift, if this browser's supporter session may act for its supporter."""
    if supporter_access.current_session() is None:
        raise Closed
    sub = db.session.get(Subscription, gift_id)
    if sub is None or supporter_access.may_act_for(sub.supporter_id) is None:
        abort(403)
    return sub


def _form(action: str, sub: Subscription, formdata=None):
    cls = FORMS[action]
    kwargs = {"gift_currency": sub.currency} if cls is AmountForm else {}
    form = cls(formdata=formdata, **kwargs) if formdata is not None else cls(**kwargs)
    if formdata is None:
        form.version.data = str(sub.stripe_updated)
        if cls is AmountForm:
            form.currency.data = sub.currency
            form.frequency.data = sub.interval
    return form


def _presets(currency: str) -> list[tuple[str, int]]:
    """The configured preset amounts, as (form value, minor units)."""
    places = exponent(currency)
    found = []
    for major in current_app.config["SUPPORT_PRESETS"]:
        if -Decimal(major).as_tuple().exponent <= places:
            found.append((str(major), int(Decimal(major).scaleb(places))))
    return found


def _page(action: str, sub: Subscription, form, status: int = 200, step: str | None = None):
    offer = current_app.config["SUPPORT_SAVE_OFFER"]
    template = f"account/{action}.html"
    if action == "cancel" and step == "offer":
        template = "account/cancel_offer.html"
    page = render_template(
        template,
        gift=sub,
        form=form,
        presets=_presets(sub.currency),
        custom=CUSTOM,
        pause_months=actions.PAUSE_MONTHS,
        resumes={m: actions.resumes_at(m) for m in actions.PAUSE_MONTHS},
        reasons=[(code, REASON_LABELS[code]) for code in actions.REASONS],
        offer=offer,
        offer_form=_offer_form(sub, offer) if step == "offer" else None,
        format_date=format_date,
    )
    return _no_store(make_response(page, status))


def _offer_form(sub: Subscription, offer: str):
    form = _form("pause" if offer == "pause" else "amount", sub)
    form.offer.data = offer
    return form


def _cancel_step(sub: Subscription, asked: str | None) -> str:
    """Cancelling shows the one save offer first, unless it was seen or does not fit."""
    offer = current_app.config["SUPPORT_SAVE_OFFER"]
    if asked == "reasons" or offer == "none":
        return "reasons"
    if offer == "pause" and "pause" not in actions.available(sub):
        return "reasons"
    return "offer"


def _closed():
    page = render_template("account/closed.html", form=ManageForm())
    return _no_store(make_response(page, 401))


@bp.get("/<lang>/account/gifts/<int:gift_id>/<any(amount,pause,resume,cancel,keep):action>")
def gift_action(gift_id: int, action: str, lang=None):
    """The action's page: what will happen, and the button that asks for it."""
    try:
        sub = _gift(gift_id)
    except Closed:
        return _closed()
    if action not in actions.available(sub):
        return _refused(sub, "not_now")
    step = _cancel_step(sub, request.args.get("step")) if action == "cancel" else None
    form = _form(action, sub)
    if action == "cancel" and step == "reasons":
        # The offer page's "no, cancel" link says which offer was shown.
        form.offer.data = request.args.get("offered", "")
    return _page(action, sub, form, step=step)


def _refused(sub: Subscription, code: str):
    page = render_template("account/refused.html", gift=sub, code=code)
    return _no_store(make_response(page, 400))


def _ask(action: str, form) -> actions.Ask:
    offer = form.offer_taken()
    if action == "amount":
        return actions.Ask(
            "amount",
            amount=form.amount_minor,
            interval=form.frequency.data,
            offer=offer,
            saved=offer == "lower",
        )
    if action == "pause":
        return actions.Ask(
            "pause", months=int(form.months.data), offer=offer, saved=offer == "pause"
        )
    if action == "cancel":
        comment = (form.comment.data or "").strip() or None
        return actions.Ask("cancel", reason=form.reason.data, comment=comment, offer=offer)
    return actions.Ask(action)


@bp.post("/<lang>/account/gifts/<int:gift_id>/<any(amount,pause,resume,cancel,keep):action>")
def gift_action_post(gift_id: int, action: str, lang=None):
    """Ask Stripe for the change (once per form), then back to the account page (303)."""
    try:
        sub = _gift(gift_id)
    except Closed:
        return _closed()
    form = _form(action, sub, request.form)
    if not form.validate():
        if form.csrf_token.errors:
            abort(400)
        step = "reasons" if action == "cancel" else None
        return _page(action, sub, form, 400, step=step)
    session = supporter_access.current_session()
    try:
        change = actions.request_change(
            session, sub, _ask(action, form), int(form.version.data), g.lang
        )
    except actions.ActionRefused as refused:
        return _refused(sub, refused.code)
    except StripeNotFound:
        return _no_store(make_response(render_template("manage/not_found.html"), 404))
    except StripeBusy as busy:
        return _no_store(busy_page(busy))
    except StripeUnavailable:
        retry = url_for("account.gift_action", gift_id=gift_id, action=action)
        page = render_template("manage/unavailable.html", retry_url=retry)
        return _no_store(make_response(page, 502))
    flash(change.kind, "change")
    return _no_store(redirect(url_for("account.account"), code=303))
