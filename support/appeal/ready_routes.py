"""Reader pages that open the pay page with a gift made ready for a known supporter.

`/give/<token>`: a mailed link (restart a stopped gift, or give monthly after a
one-time gift). Mail scanners and link previews fetch links (GET, HEAD) before the
reader does, so GET shows one button and only the reader's POST spends the link.
`POST /<lang>/thanks/monthly`: the thanks page's "give N a month" button, for the
browser that paid the one-time gift only.
"""

from __future__ import annotations

from flask import abort, g, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded
from flask_wtf import FlaskForm

from support.address_keys import address_key
from support.appeal import bp, checkout
from support.appeal.next_steps import monthly_gift
from support.appeal.ready_checkout import (
    Refused,
    link_supporter,
    spend_link,
    start_ready_checkout,
)
from support.errors import busy_page, render_error
from support.extensions import limiter
from support.gift_links import GiftLink, read_token
from support.i18n import best_language
from support.mailed_links import no_store, setting
from support.manage.supporter_access import paying_supporter
from support.portal_links import LinkError, LinkExpired
from support.stripe_api import StripeBusy, StripeUnavailable

# Why a link opens nothing → the status of the page saying so.
PROBLEM_STATUS = {"invalid": 400, "expired": 410, "used": 410}


def problem_page(reason: str):
    """The page, in the link's language, saying why a link opens nothing."""
    page = render_template("appeal/gift_link_problem.html", reason=reason)
    return no_store(make_response(page, PROBLEM_STATUS[reason]))


def read_link(token: str) -> GiftLink | str:
    """The link, or the reason it cannot be used (`g.lang` set either way)."""
    try:
        link = read_token(token)
    except LinkError as error:
        g.lang = error.lang or best_language()
        return "expired" if isinstance(error, LinkExpired) else "invalid"
    g.lang = link.lang
    return link


def checked_button_page(link: GiftLink, status: int = 200, expired_form: bool = False):
    """The link's one button (and, when the form had expired, a word saying so), or
    the page saying why the link cannot be used any more. Spends nothing."""
    try:
        link_supporter(link)
    except Refused as refused:
        return problem_page(refused.reason)
    page = render_template(
        "appeal/gift_link.html", link=link, form=FlaskForm(), expired_form=expired_form
    )
    return no_store(make_response(page, status))


def _started(start):
    """Run `start` (it answers where to send the browser) and redirect there, or the
    page for what stopped it: too many checkouts, Stripe busy or failing."""
    try:
        url = start()
    except Refused as refused:
        return problem_page(refused.reason)
    except RateLimitExceeded:
        return render_error(429)
    except StripeBusy as busy:
        return busy_page(busy)
    except StripeUnavailable:
        return render_error(502)
    return no_store(redirect(url, code=303))


@bp.route("/give/<token>", methods=["GET", "POST"])
@limiter.limit(setting("MANAGE_LIMIT_PORTAL"), key_func=lambda: address_key("give-ip"))
def gift_link(token: str):
    """GET (and HEAD) show the gift and one button and spend nothing; the POST spends
    the link and opens the pay page (303) for the same customer. Otherwise a page, in
    the link's language, saying why not."""
    link = read_link(token)
    if isinstance(link, str):
        return problem_page(link)
    if request.method == "HEAD":
        return no_store(make_response("", 200))
    if request.method == "GET":
        return checked_button_page(link)
    return _started(lambda: spend_link(link))


@bp.post("/<lang>/thanks/monthly")
def thanks_monthly(lang=None):
    """The thanks page's "give N a month" button: the browser that paid a one-time gift
    gets the pay page ready for a monthly gift of N, as the same customer."""
    session_id = request.form.get("session_id")
    attempt = checkout.find_attempt(session_id if isinstance(session_id, str) else None)
    if attempt is None:
        abort(404)
    supporter = paying_supporter(attempt.session_id)
    gift = monthly_gift(attempt)
    if supporter is None or gift is None:
        page = render_template(
            "appeal/pay_problem.html",
            title=_l("This offer only works in the browser you gave from"),
            text=_l(
                "For your security, the monthly offer on the thank-you page works only in the "
                "browser where the gift was made, for a day. Nothing was charged. You can "
                "choose a monthly gift here."
            ),
            again_url=url_for("appeal.appeal", frequency="month"),
        )
        return make_response(page, 403)
    return _started(
        lambda: start_ready_checkout(supporter, gift, g.lang, "monthly", attempt.session_id)
    )
