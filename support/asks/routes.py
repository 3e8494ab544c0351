"""Reader pages of an ask mail: `/asks/<token>` (raise my gift) and `/unsubscribe/<token>`.

`GET /asks/<token>` shows the new amount, when it starts and one button; mail
scanners fetch links, so only the reader's POST (CSRF) raises the gift. The
browser that pressed it is remembered in its session, so it is shown the done
page; any other opening of the link is told it was used.

`/unsubscribe/<token>` is the address of the List-Unsubscribe header: a POST
unsubscribes at once with no confirmation, no cookie and no CSRF token (RFC 8058;
the route is exempt from CSRF on purpose, and doing it twice changes nothing); a
GET shows a page with one button doing the same POST.
"""

from __future__ import annotations

from flask import Blueprint, g, make_response, redirect, render_template, request, session, url_for
from flask_babel import format_date
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError

from support.address_keys import address_key
from support.asks import accept as accepting
from support.asks import links, optout
from support.errors import busy_page
from support.extensions import csrf, db, limiter
from support.i18n import best_language
from support.mailed_links import no_store, setting
from support.models import Subscription, UpgradeAskRecipient
from support.portal_links import LinkError, LinkExpired
from support.stripe_api import StripeBusy, StripeNotFound, StripeUnavailable

bp = Blueprint("asks", __name__)

# Session key: the recipient rows this browser accepted (for their done page).
ACCEPTED = "asks_accepted"
PROBLEM_STATUS = {"invalid": 400, "expired": 410, "used": 410, "not_now": 409, "raised": 409}


def _problem(reason: str):
    page = render_template("asks/problem.html", reason=reason)
    return no_store(make_response(page, PROBLEM_STATUS[reason]))


def _recipient(token: str) -> UpgradeAskRecipient | str:
    """The link's recipient row, or why not (`g.lang` set either way)."""
    try:
        recipient_id, lang = links.read_accept(token)
    except LinkError as error:
        g.lang = error.lang or best_language()
        return "expired" if isinstance(error, LinkExpired) else "invalid"
    g.lang = lang
    recipient = db.session.get(UpgradeAskRecipient, recipient_id)
    return recipient if recipient is not None else "invalid"


def _accepted_here(recipient: UpgradeAskRecipient) -> bool:
    return recipient.id in session.get(ACCEPTED, [])


def _confirm_page(recipient, sub: Subscription, status: int = 200, expired_form: bool = False):
    page = render_template(
        "asks/confirm.html",
        recipient=recipient,
        gift=sub,
        form=FlaskForm(),
        expired_form=expired_form,
        format_date=format_date,
    )
    return no_store(make_response(page, status))


@bp.route("/asks/<token>", methods=["GET", "POST"])
@limiter.limit(setting("MANAGE_LIMIT_PORTAL"), key_func=lambda: address_key("asks-ip"))
def accept(token: str):
    """GET: the new amount, from when, and one button. POST: raise the gift (once), then
    303 to the same address, which shows this browser the done page."""
    recipient = _recipient(token)
    if isinstance(recipient, str):
        return _problem(recipient)
    if request.method == "HEAD":
        return no_store(make_response("", 200))
    if request.method == "GET" and _accepted_here(recipient):
        sub = db.session.get(Subscription, recipient.subscription_id)
        page = render_template(
            "asks/done.html", recipient=recipient, gift=sub, format_date=format_date
        )
        return no_store(make_response(page))
    try:
        sub = accepting.check(recipient)
        if request.method == "GET":
            return _confirm_page(recipient, sub)
        accepting.accept(recipient.id, g.lang)
    except accepting.Refused as refused:
        return _problem(refused.reason)
    except StripeNotFound:
        return _problem("not_now")
    except StripeBusy as busy:
        return no_store(busy_page(busy))
    except StripeUnavailable:
        page = render_template("manage/unavailable.html", retry_url=request.path)
        return no_store(make_response(page, 502))
    session[ACCEPTED] = [*session.get(ACCEPTED, [])[-9:], recipient.id]
    return no_store(redirect(url_for("asks.accept", token=token), code=303))


@bp.errorhandler(CSRFError)
def expired_form(error):
    """The raise button pressed without a valid CSRF token (the cookie expired or was
    cleared): the page again, with a fresh token."""
    recipient = _recipient(request.view_args.get("token", ""))
    if isinstance(recipient, str):
        return _problem(recipient)
    try:
        sub = accepting.check(recipient)
    except accepting.Refused as refused:
        return _problem(refused.reason)
    return _confirm_page(recipient, sub, 400, expired_form=True)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    """POST: no more asks to this supporter (one click, no confirmation, idempotent);
    GET: a page with the button. A link we did not sign: 400 with a page saying so.

    Not rate-limited: a mail provider sends its users' one-click POSTs from a few
    addresses, and the request only ever sets one flag."""
    try:
        supporter_id, lang = links.read_unsubscribe(token)
    except LinkError:
        g.lang = best_language()
        page = render_template("asks/unsubscribe.html", state="invalid")
        return no_store(make_response(page, 400))
    g.lang = lang
    if request.method == "POST":
        optout.opt_out(supporter_id)
        return no_store(make_response(render_template("asks/unsubscribe.html", state="done")))
    return no_store(make_response(render_template("asks/unsubscribe.html", state="ask")))
