"""Reader pages: `/`, `/<lang>/`, checkout, thanks and cancelled."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for

from support import browser_checkouts, checkout
from support.appeal import bp
from support.appeal.forms import AppealForm
from support.appeal.page import preselect, render_appeal
from support.i18n import best_language
from support.manage.portal import thanks_manage_url
from support.stripe_api import StripeUnavailable


@bp.get("/")
def root():
    """Send the reader to their language's appeal, keeping the query string."""
    target = url_for("appeal.appeal", lang=best_language())
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, code=302)


@bp.get("/<lang>/")
def appeal(lang=None):
    """The appeal: preset and custom amounts, frequency, fees, goal progress."""
    return render_appeal(AppealForm(formdata=preselect(request.args)))


@bp.post("/<lang>/checkout")
def start_checkout(lang=None):
    """Validate the choice and send the reader to Stripe Checkout (303)."""
    form = AppealForm()
    if not form.validate():
        return render_appeal(form), 400
    try:
        session_id, url = checkout.start_checkout(form.choice(g.lang))
    except StripeUnavailable:
        # The same form, same token: pressing the button again is safe.
        return render_appeal(form, stripe_error=True), 502
    # The thanks page offers this browser, and only it, a direct link to the portal.
    browser_checkouts.remember(session_id)
    return redirect(url, code=303)


@bp.get("/<lang>/thanks")
def thanks(lang=None):
    """Thank the reader; say whether Stripe has confirmed the payment yet."""
    attempt = checkout.find_attempt(request.args.get("session_id"))
    if attempt is None:
        abort(404)
    return render_template(
        "appeal/thanks.html",
        attempt=attempt,
        confirmed=checkout.is_confirmed(attempt),
        back_url=f"{attempt.source}#supported" if attempt.source else None,
        manage_url=thanks_manage_url(attempt, browser_checkouts.started_here(attempt.session_id)),
    )


@bp.get("/<lang>/cancelled")
def cancelled(lang=None):
    """Checkout abandoned: the appeal again, with the reader's choice kept."""
    return render_appeal(AppealForm(formdata=preselect(request.args)), cancelled=True)
