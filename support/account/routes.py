"""`/<lang>/account`: the supporter page, for a browser holding a supporter session.

Thin views: `support.manage.supporter_access` decides who this browser may act for,
`gifts` reads the ledger, `manage.portal` opens Stripe's Billing Portal.
"""

from __future__ import annotations

from flask import abort, g, make_response, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_wtf import FlaskForm

from support.account import bp
from support.account.gifts import customers_gifts
from support.errors import busy_page
from support.manage import supporter_access
from support.manage.forms import ManageForm
from support.manage.portal import portal_session_url
from support.stripe_api import StripeBusy, StripeNotFound, StripeUnavailable


def _no_store(response):
    # The page shows gifts; nothing of it may be kept by a shared browser's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<lang>/account")
def account(lang=None):
    """Every gift under the proven address, across its Stripe customers; or, without a
    live supporter session, a page offering a new link (401)."""
    supporters = supporter_access.account_supporters()
    if not supporters:
        page = render_template("account/closed.html", form=ManageForm())
        return _no_store(make_response(page, 401))
    session = supporter_access.current_session()
    page = render_template(
        "account/account.html",
        customers=customers_gifts(supporters),
        expires_at=session.expires_at,
        form=FlaskForm(),
        format_date=format_date,
    )
    return _no_store(make_response(page))


@bp.post("/<lang>/account/portal")
def portal(lang=None):
    """Open Stripe's Billing Portal for one customer this browser may act for (303)."""
    try:
        supporter_id = int(request.form.get("supporter", ""))
    except ValueError:
        abort(400)
    supporter = supporter_access.may_act_for(supporter_id)
    if supporter is None:
        abort(403)
    try:
        url = portal_session_url(supporter, g.lang)
    except StripeNotFound:
        return _no_store(make_response(render_template("manage/not_found.html"), 404))
    except StripeBusy as busy:
        # The readers' share of Stripe's budget is used up: a calm 503, not an outage.
        return _no_store(busy_page(busy))
    except StripeUnavailable:
        retry = url_for("account.account")
        page = render_template("manage/unavailable.html", retry_url=retry)
        return _no_store(make_response(page, 502))
    return _no_store(redirect(url, code=303))


@bp.post("/<lang>/account/sign-out")
def sign_out(lang=None):
    """End this browser's supporter session (the row too, so the cookie is worthless)."""
    supporter_access.end_session()
    return _no_store(redirect(url_for("account.account", signed_out=1), code=303))
