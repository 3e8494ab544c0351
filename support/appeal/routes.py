"""Reader pages: `/`, `/<lang>/`, checkout, the pay page, thanks and cancelled."""

from __future__ import annotations

from flask import abort, g, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError

from support.appeal import bp, checkout, pay, ready_routes, throttle
from support.appeal.confirmation import confirmation
from support.appeal.forms import AppealForm
from support.appeal.next_steps import monthly_gift, monthly_offer_url, share_offer
from support.appeal.page import preselect, render_appeal
from support.attribution import clean_source
from support.errors import busy_page, render_error, retry_after
from support.i18n import best_language
from support.manage import browser_checkouts
from support.manage.portal import thanks_manage_url
from support.manage.supporter_access import paying_supporter
from support.security import stripe_js_policy
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
    """Validate the choice and send the reader to our pay page or Stripe Checkout (303).

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
    if choice.ui == checkout.ELEMENTS:
        pay.remember_email(session_id, choice.email)
    return redirect(url, code=303)


def _pay_attempt(session_id: str):
    """The Elements session's attempt for this browser, or the page to answer instead.

    An id we did not create (or a hosted session's) is a 404; another browser's
    session a 403 saying why. Neither asks Stripe.
    """
    attempt = checkout.find_attempt(session_id)
    if attempt is None or not attempt.client_secret:
        abort(404)
    if not browser_checkouts.started_here(session_id):
        page = render_template(
            "appeal/pay_problem.html",
            title=_l("This payment page belongs to another browser"),
            text=_l(
                "For your security, a payment page opens only in the browser where the gift "
                "was chosen. Nothing was charged. You can choose your gift again here."
            ),
            again_url=url_for("appeal.appeal", **pay.back_to_appeal(attempt, g.lang)),
        )
        return None, make_response(page, 403)
    return attempt, None


@bp.get("/<lang>/pay/<session_id>")
def pay_page(lang=None, session_id=None):
    """Our pay page: the gift's summary and Stripe's Payment Element for the session.

    Drawn from the attempt alone (no Stripe read). A paid session goes on to the
    thanks page; one past Stripe's lifetime back to the appeal, the choice kept.
    """
    attempt, refusal = _pay_attempt(session_id)
    if refusal is not None:
        return refusal
    state = pay.state(attempt)
    if state == pay.COMPLETE:
        return redirect(url_for("appeal.thanks", session_id=session_id), code=303)
    again_url = url_for("appeal.appeal", **pay.back_to_appeal(attempt, g.lang))
    if state == pay.EXPIRED:
        page = render_template(
            "appeal/pay_problem.html",
            title=_l("This payment page has expired"),
            text=_l("Nothing was charged. Your choice is kept: press the button to start again."),
            again_url=again_url,
        )
        return page, 410
    response = make_response(
        render_template(
            "appeal/pay.html",
            attempt=attempt,
            gift=pay.summary(attempt),
            email=pay.email_for(session_id) or "",
            again_url=again_url,
            thanks_url=url_for("appeal.thanks", session_id=session_id),
        )
    )
    # The only reader page that loads Stripe.js.
    response.headers["Content-Security-Policy"] = stripe_js_policy()
    return response


@bp.post("/<lang>/pay/<session_id>/hosted")
def pay_hosted(lang=None, session_id=None):
    """The same gift on Stripe's hosted Checkout: for a reader whose browser cannot run
    the Payment Element (no JavaScript, Stripe.js blocked) or who prefers it."""
    attempt, refusal = _pay_attempt(session_id)
    if refusal is not None:
        return refusal
    if pay.state(attempt) == pay.COMPLETE:
        return redirect(url_for("appeal.thanks", session_id=session_id), code=303)
    choice = pay.choice_of(attempt, g.lang, pay.email_for(session_id))
    try:
        with throttle.new_sessions(choice):
            hosted_id, url = checkout.start_checkout(choice)
    except RateLimitExceeded:
        return render_error(429)
    except StripeBusy as busy:
        return busy_page(busy)
    except StripeUnavailable:
        return render_error(502)
    browser_checkouts.remember(hosted_id)
    return redirect(url, code=303)


@bp.errorhandler(CSRFError)
def expired_form(error):
    """A form without a valid CSRF token: the form again, with a fresh token.

    Most often the reader's session cookie expired or was cleared while the page
    was open; pressing the button again is all it takes. The pay page's switch to
    Stripe's page gets the pay page again (which says whose it is).
    """
    if request.endpoint == "appeal.pay_hosted":
        return redirect(url_for("appeal.pay_page", **request.view_args), code=303)
    if request.endpoint == "appeal.gift_link":
        link = ready_routes.read_link(request.view_args["token"])
        if isinstance(link, str):
            return ready_routes.problem_page(link)
        return ready_routes.checked_button_page(link, 400, expired_form=True)
    if request.endpoint == "appeal.thanks_monthly":
        attempt = checkout.find_attempt(request.form.get("session_id"))
        if attempt is None:
            abort(404)
        return redirect(url_for("appeal.thanks", session_id=attempt.session_id), code=303)
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
        monthly_url=monthly_offer_url(attempt, source),
        # The ready monthly gift: for the browser that paid, once the ledger has the gift.
        give_monthly=monthly_gift(attempt) if paying_supporter(attempt.session_id) else None,
        share=share_offer(attempt),
        manage_url=thanks_manage_url(attempt),
    )


@bp.get("/<lang>/cancelled")
def cancelled(lang=None):
    """Checkout abandoned: the appeal again, with the reader's choice kept."""
    return render_appeal(AppealForm(formdata=preselect(request.args)), cancelled=True)
