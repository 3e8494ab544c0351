"""Reader pages: `/<lang>/manage` (ask for a link) and `/manage/<token>` (use it)."""

from __future__ import annotations

from flask import current_app, g, make_response, redirect, render_template, request
from flask_babel import format_date

from support.address_keys import address_key, email_key
from support.errors import busy_page
from support.extensions import limiter
from support.i18n import best_language
from support.manage import bp
from support.manage.done import current_gifts, read_return_token
from support.manage.forms import ManageForm
from support.manage.link_requests import request_link as record_request
from support.manage.portal import Refused, open_portal
from support.portal_links import LinkError, LinkExpired, read_token
from support.stripe_api import StripeBusy, StripeNotFound, StripeUnavailable

# Why a link did not open the portal → the status of the page saying so.
PROBLEM_STATUS = {"invalid": 400, "elsewhere": 403, "expired": 410, "used": 410}


def _limit(name: str):
    """A limit read from the settings (support/config.py) at request time."""
    return lambda: current_app.config[name]


def _address_key() -> str:
    """Count requests per client address (keyed digest: `support.address_keys`)."""
    return address_key("manage-ip")


def _email_key() -> str:
    """Count requests per email typed (keyed digest: the store never sees addresses)."""
    return email_key("manage-email", request.form.get("email"))


def _no_store(response):
    # Pages under /manage/<token> carry a credential in their URL.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<lang>/manage", methods=["GET", "POST"])
@limiter.limit(_limit("MANAGE_LIMIT_PER_IP"), key_func=_address_key, methods=["POST"])
@limiter.limit(_limit("MANAGE_LIMIT_PER_EMAIL"), key_func=_email_key, methods=["POST"])
def request_link(lang=None):
    """Ask for a manage link; the answer is the same whether or not the address is known."""
    form = ManageForm()
    if request.method == "GET":
        return render_template("manage/request.html", form=form)
    if not form.validate():
        return render_template("manage/request.html", form=form), 400
    record_request(form.email.data, g.lang)
    return render_template("manage/sent.html")


def _problem(reason: str):
    """The page explaining why a link did not open the portal, with the form for a new one."""
    page = render_template("manage/link_problem.html", reason=reason, form=ManageForm())
    return _no_store(make_response(page, PROBLEM_STATUS[reason]))


@bp.get("/manage/<token>")
@limiter.limit(_limit("MANAGE_LIMIT_PORTAL"), key_func=_address_key)
def portal(token: str):
    """A valid, unused link → 303 to a fresh Billing Portal session; otherwise a page saying why."""
    try:
        link = read_token(token)
    except LinkError as error:
        g.lang = error.lang or best_language()
        return _problem("expired" if isinstance(error, LinkExpired) else "invalid")
    g.lang = link.lang
    if request.method == "HEAD":
        # Mail scanners and link previews check links with HEAD: that must not use one up.
        return _no_store(make_response("", 200))
    try:
        url = open_portal(link)
    except Refused as refused:
        return _problem(refused.reason)
    except StripeBusy as busy:
        # The readers' share of Stripe's budget is used up; the link is still unused.
        return _no_store(busy_page(busy))
    except StripeNotFound:
        # Stripe answered, and has no such customer: trying again will not help.
        return _no_store(make_response(render_template("manage/not_found.html"), 404))
    except StripeUnavailable:
        return _no_store(make_response(render_template("manage/unavailable.html"), 502))
    return _no_store(redirect(url, code=303))


@bp.get("/<lang>/manage/done")
def done(lang=None):
    """Back from the Billing Portal: the changes are saved; the gifts as the ledger has them.

    Reads only the database: the reader has just left Stripe, and the webhooks
    that tell us what changed arrive on their own.
    """
    gifts = current_gifts(read_return_token(request.args.get("r")))
    page = render_template("manage/done.html", gifts=gifts, format_date=format_date)
    return _no_store(make_response(page))
