"""The one place that turns errors into responses.

Reader and staff pages get an HTML page in the reader's language; APIs
(`/stripe/*`, `/embed/*`, `/staff/api/*`, `/healthz`) get JSON. A 500 rolls the
session back so a half-written transaction never leaks into the next request.
A reader's request that the readers' share of Stripe's budget did not let
through (`StripeBusy`) is a 503 with `Retry-After`, never a 502.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

from support.extensions import db
from support.stripe_api import StripeBusy, StripeUnavailable

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/stripe/", "/embed/", "/staff/api/", "/healthz")
PAGE_STATUSES = (400, 401, 403, 404, 405, 410, 413, 429, 500, 502)


def wants_json() -> bool:
    """APIs answer JSON; `/embed/` itself is a staff page, so it is HTML."""
    path = request.path
    return path != "/embed/" and path.startswith(JSON_PREFIXES)


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Something in the request was not right"), _("Please go back and try again.")),
        401: (_("Please sign in"), _("You need to sign in to see this page.")),
        403: (_("Not allowed"), _("You do not have access to this page.")),
        404: (_("Page not found"), _("We could not find that page.")),
        405: (_("Not allowed"), _("That action is not possible here.")),
        410: (_("No longer available"), _("This link has expired or what it led to was removed.")),
        413: (_("Too large"), _("What was sent is larger than we accept.")),
        429: (_("Too many attempts"), _("Please wait a moment, then try again.")),
        500: (
            _("Something went wrong on our side"),
            _("Nothing was charged because of this error. Please try again in a moment."),
        ),
        502: (
            _("The payment service is not answering"),
            _("Nothing was charged. Please try again in a moment."),
        ),
    }


def title_and_text(status: int) -> tuple[str, str]:
    """What the page says: the status's own words, else those of its class (4xx, 5xx)."""
    titles = _titles()
    return titles.get(status) or titles[400 if status < 500 else 500]


def error_body(status: int, message: str) -> dict:
    """The JSON body of every API error."""
    return {"error": {"status": status, "message": message}}


def is_staff_page() -> bool:
    """Staff pages (and the banner's preview): their error pages lead back to the staff desk."""
    return request.path == "/staff" or request.path.startswith(("/staff/", "/embed/"))


def render_error(status: int, description: str | None = None):
    """An error response in the right format for the request."""
    title, text = title_and_text(status)
    if wants_json():
        return jsonify(error_body(status, description or title)), status
    page = render_template(
        "errors/error.html", status=status, title=title, text=text, staff=is_staff_page()
    )
    return page, status


def retry_after(body, status: int, busy: StripeBusy) -> Response:
    """`body` with `status` and the `Retry-After` that `busy` carries."""
    response = make_response(body, status)
    response.headers["Retry-After"] = str(busy.retry_after)
    return response


def busy_page(busy: StripeBusy) -> Response:
    """The 503 for a reader's request past the readers' share of Stripe's budget."""
    if wants_json():
        return retry_after(jsonify(error_body(503, str(busy))), 503, busy)
    page = render_template(
        "errors/error.html",
        status=503,
        title=_("Many readers are here right now"),
        text=_("Nothing was charged and nothing has changed. Please try again in a few seconds."),
    )
    return retry_after(page, 503, busy)


def init_app(app: Flask) -> None:
    """Register the handlers for every status a reader or client can meet."""

    def handle_http(error: HTTPException):
        # Every error status keeps its code; only a 5xx may leave a transaction behind.
        status = error.code if error.code and 400 <= error.code < 600 else 500
        if status >= 500:
            db.session.rollback()
        response = make_response(render_error(status))
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    def handle_stripe_unavailable(error: StripeUnavailable):
        log.warning("Stripe unavailable: %s", error)
        db.session.rollback()
        return render_error(502)

    def handle_stripe_busy(error: StripeBusy):
        db.session.rollback()
        return busy_page(error)

    def handle_unexpected(error: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)

    for code in PAGE_STATUSES:
        if code != 502:
            app.register_error_handler(code, handle_http)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(StripeUnavailable, handle_stripe_unavailable)
    app.register_error_handler(StripeBusy, handle_stripe_busy)
    app.register_error_handler(InternalServerError, handle_unexpected)
    app.register_error_handler(Exception, handle_unexpected)
