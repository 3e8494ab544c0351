"""Reader pages: `/`, `/<lang>/`, checkout, thanks and cancelled."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError

from support.appeal import bp, checkout, throttle
from support.appeal.confirmation import confirmation
from support.appeal.forms import AppealForm
from support.appeal.next_steps import monthly_offer_url, share_mail_url
from support.appeal.page import preselect, render_appeal
from support.attribution import clean_source
from support.errors import retry_after
from support.i18n import best_language
from support.manage import browser_checkouts
from support.manage.portal import thanks_manage_url
from support.stripe_api import StripeBusy, StripeUnavailable


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
    """Validate the choice and send the reader to Stripe Checkout (303).

    An address that started too many sessions gets the form back with a 429,
    before Stripe is asked (`throttle`); so does everyone, with a 503, while the
    readers' share of Stripe's budget is used up.
    """
    form = AppealForm()
    if not form.validate():
        return render_appeal(form), 400
    choice = form.choice(g.lang)
    try:
        with throttle.new_sessions(choice):
            session_id, url = checkout.start_checkout(choice)
    except RateLimitExceeded:
        return render_appeal(form, throttled=True), 429
    except StripeBusy as busy:
        return retry_after(render_appeal(form, busy=True), 503, busy)
    except StripeUnavailable:
        # The same form, same token: pressing the button again is safe.
        return render_appeal(form, stripe_error=True), 502
    # The thanks page offers this browser, and only it, a direct link to the portal.
    browser_checkouts.remember(session_id)
    return redirect(url, code=303)


@bp.errorhandler(CSRFError)
def expired_form(error):
    """A checkout (the one form here) without a valid CSRF token: the form again,
    with a fresh token.

    Most often the reader's session cookie expired or was cleared while the page
    was open; pressing the button again is all it takes.
    """
    form = AppealForm()
    form.form_errors.append(
        _l("This form has expired. Please check your choice and press the button again.")
    )
    return render_appeal(form), 400


@bp.get("/<lang>/thanks")
def thanks(lang=None):
    """Thank the reader; say whether Stripe has confirmed the payment yet.

    An id this service did not create is a 404 without asking Stripe; a known one
    costs Stripe at most one read per 10 s (`confirmation`).
    """
    attempt = checkout.find_attempt(request.args.get("session_id"))
    if attempt is None:
        abort(404)
    # Cleaned again: a row stored before a stricter rule (or a change of
    # SUPPORT_ALLOWED_HOSTS) must not become a link either.
    source = clean_source(attempt.source)
    return render_template(
        "appeal/thanks.html",
        attempt=attempt,
        confirmation=confirmation(attempt),
        back_url=f"{source}#supported" if source else None,
        article_url=source,
        monthly_url=monthly_offer_url(attempt, source),
        share_mail_url=share_mail_url,
        manage_url=thanks_manage_url(attempt),
    )


@bp.get("/<lang>/cancelled")
def cancelled(lang=None):
    """Checkout abandoned: the appeal again, with the reader's choice kept."""
    return render_appeal(AppealForm(formdata=preselect(request.args)), cancelled=True)
