"""Reader pages: `/<lang>/manage` (ask for a link) and `/manage/<token>` (use it).

`GET /manage/<token>` only shows one button: mail scanners and link previews
fetch links (GET, HEAD) before the reader does, so nothing but the reader's
POST spends a link.
"""

from __future__ import annotations

from flask import g, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, format_date, gettext
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError

from support.address_keys import address_key
from support.extensions import limiter
from support.i18n import best_language, direction
from support.mailed_links import answer, no_store, setting, throttled
from support.manage import bp
from support.manage.done import current_gifts, outcome, read_return_token
from support.manage.forms import ManageForm
from support.manage.link_requests import request_link as record_request
from support.manage.portal import Refused, check_link, spend_link
from support.portal_links import LinkError, LinkExpired, ManageLink, read_token

# Why a link did not open the portal → the status of the page saying so.
PROBLEM_STATUS = {"invalid": 400, "elsewhere": 403, "expired": 410, "used": 410}


@bp.route("/<lang>/manage", methods=["GET", "POST"])
@throttled("manage", "MANAGE_LIMIT_PER_IP", "MANAGE_LIMIT_PER_EMAIL")
def request_link(lang=None):
    """Ask for a manage link; the answer is the same whether or not the address is known."""
    form = ManageForm()
    return answer(
        form, "manage/request.html", "manage/sent.html", lambda email: record_request(email, g.lang)
    )


def _in_the_other_language() -> dict[str, str]:
    """For a link whose language is lost: the page's gist in the other language,
    with the way to its own manage form."""
    other = "ar" if g.lang == "en" else "en"
    with force_locale(other):
        return {
            "lang": other,
            "dir": direction(other),
            "heading": gettext("This link does not work"),
            "text": gettext(
                "The link may be incomplete (some email programs cut long links) or no "
                "longer valid. Nothing has changed in your support."
            ),
            "action": gettext("Get a new link"),
            "url": url_for("manage.request_link", lang=other),
        }


def _problem(reason: str):
    """The page explaining why a link did not open the portal, with the form for a new one.

    A link too broken to say its language is answered in the browser's, with the
    other language offered beside it.
    """
    other = None if g.get("link_lang_known", True) else _in_the_other_language()
    page = render_template(
        "manage/link_problem.html", reason=reason, form=ManageForm(), other=other
    )
    return no_store(make_response(page, PROBLEM_STATUS[reason]))


def _read(token: str) -> ManageLink | str:
    """The link, or the reason it cannot be used (`g.lang` set either way: the link's
    language, even from a cut link, else the browser's)."""
    try:
        link = read_token(token)
    except LinkError as error:
        g.lang = error.lang or best_language()
        g.link_lang_known = error.lang is not None
        return "expired" if isinstance(error, LinkExpired) else "invalid"
    g.lang = link.lang
    return link


def _confirm_page(link: ManageLink, status: int = 200, expired_form: bool = False):
    page = render_template(
        "manage/confirm.html", link=link, form=FlaskForm(), expired_form=expired_form
    )
    return no_store(make_response(page, status))


@bp.route("/manage/<token>", methods=["GET", "POST"])
@limiter.limit(setting("MANAGE_LIMIT_PORTAL"), key_func=lambda: address_key("manage-ip"))
def portal(token: str):
    """GET (and HEAD) show one button and spend nothing; the POST spends the link:
    a mailed link → a supporter session and 303 to the account page; a thanks
    link → 303 to that payment's Billing Portal. Otherwise a page saying why."""
    link = _read(token)
    if isinstance(link, str):
        return _problem(link)
    if request.method == "HEAD":
        return no_store(make_response("", 200))
    try:
        if request.method == "GET":
            check_link(link)
            return _confirm_page(link)
        url = spend_link(link)
    except Refused as refused:
        return _problem(refused.reason)
    return no_store(redirect(url, code=303))


@bp.errorhandler(CSRFError)
def expired_form(error):
    """A POST without a valid CSRF token (the session cookie expired or was cleared):
    the link's page again with a fresh token, or the manage form."""
    if request.endpoint == "manage.portal":
        link = _read(request.view_args["token"])
        if isinstance(link, str):
            return _problem(link)
        return _confirm_page(link, 400, expired_form=True)
    form = ManageForm()
    return render_template("manage/request.html", form=form, expired_form=True), 400


@bp.get("/<lang>/manage/done")
def done(lang=None):
    """Back from the Billing Portal: whether anything changed, and the gifts as the
    ledger has them.

    Reads only the database: the reader has just left Stripe, and the webhooks
    that tell us what changed arrive on their own.
    """
    back = read_return_token(request.args.get("r"))
    page = render_template(
        "manage/done.html",
        gifts=current_gifts(back.supporter_id),
        outcome=outcome(back),
        format_date=format_date,
    )
    return no_store(make_response(page))
