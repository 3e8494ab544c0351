"""A Stripe delivery, answered: verify, store, apply, and what to tell Stripe.

`deliver` works on the WSGI environ and returns the status, the JSON body and
the mails the event queued; the Flask route and `DeliveryShortcut` only turn
that into a response.

The shortcut answers `POST /stripe/webhook` in front of Flask. A delivery
needs none of what Flask does around a view: no session, no rate limit
(deliveries are signed), no CSRF, no templates, no routing beyond one path.
Under `bench/webhooks.py` that machinery cost about a sixth of the app's CPU
per event, so deliveries run in a bare app context (the inbox needs the
database and the config) and carry the headers every response carries. Any
other method or path goes on to Flask, which owns the URL (a GET gets its
405 there).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import NamedTuple

import stripe
from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import ClosingIterator, get_input_stream

from support import stripe_api
from support.errors import error_body
from support.extensions import db
from support.mail import outbox
from support.security import DEFAULT_HEADERS
from support.webhooks import inbox
from support.wsgi_shortcut import Shortcut

log = logging.getLogger(__name__)

PATH = "/stripe/webhook"
# Stripe's events are a few kilobytes; anything near this is not from Stripe.
MAX_BODY = 1024 * 1024


class Answer(NamedTuple):
    """What a delivery gets: an HTTP status, a JSON body, mails to send afterwards."""

    status: int
    body: dict
    # The mails this event queued (thank-you, failed payment), sent once Stripe
    # has its answer. Only those: mails owed by earlier events are
    # `flask mail send`'s, so an event that queued nothing costs nothing more.
    mails: list[int]


class TooLarge(ValueError):
    """The body is over `MAX_BODY`."""


def error(code: int, message: str, **extra) -> Answer:
    """An error answer in the API's JSON shape."""
    return Answer(code, {**extra, **error_body(code, message)}, [])


def read_body(environ: dict, limit: int = MAX_BODY) -> bytes:
    """The raw body; TooLarge past `limit` bytes, whatever Content-Length claims.

    A body without a length is read only when the server has de-chunked it
    (`wsgi.input_terminated`), as Werkzeug does.
    """
    length = environ.get("CONTENT_LENGTH")
    if length and length.isdigit() and int(length) > limit:
        raise TooLarge(length)
    stream = get_input_stream(environ, safe_fallback=True)
    chunks, size = [], 0
    while chunk := stream.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise TooLarge(size)
        chunks.append(chunk)
    return b"".join(chunks)


def deliver(environ: dict) -> Answer:
    """200 once the event is applied (or was already), 400 for a bad signature or
    body (nothing stored), 413 for a huge body, 500 when applying failed (Stripe
    will retry). Runs in an app context."""
    try:
        payload = read_body(environ)
    except TooLarge:
        return error(413, "The body is larger than a Stripe event can be")
    except ClientDisconnected:
        return error(400, "The body ended before its Content-Length")
    try:
        event = stripe_api.verify_webhook(payload, environ.get("HTTP_STRIPE_SIGNATURE"))
        inbox.check_event(event)
    except stripe.SignatureVerificationError as refused:
        log.warning("Webhook refused: %s", refused.user_message or refused)
        return error(400, "Invalid or expired Stripe-Signature")
    except ValueError:
        log.warning("Webhook refused: the signed body is not a Stripe event")
        return error(400, "The body is not a Stripe event")
    try:
        status, mails = inbox.receive(event, payload)
    except Exception:
        log.exception("Webhook %s %s could not be stored or applied", event["id"], event["type"])
        db.session.rollback()
        return error(500, "The event could not be stored; it will be retried", id=event["id"])
    log.info("Webhook %s %s: %s", event["id"], event["type"], status)
    if status == "failed":
        message = "The event could not be applied; it will be retried"
        return error(500, message, id=event["id"], status=status)
    return Answer(200, {"id": event["id"], "status": status}, mails)


def to_json(answer: Answer) -> bytes:
    """The answer's body as sent."""
    return json.dumps(answer.body, separators=(",", ":")).encode() + b"\n"


class DeliveryShortcut(Shortcut):
    """Answers POST /stripe/webhook before Flask (see the module); passes the rest on."""

    def answer(self, environ: dict, start_response: Callable) -> Iterable[bytes] | None:
        """The delivery's answer; None for another path or method."""
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return None
        with self.app.app_context():
            answer = deliver(environ)
        body = to_json(answer)
        headers = [
            *DEFAULT_HEADERS.items(),
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
        ]
        start_response(f"{answer.status} {HTTP_STATUS_CODES[answer.status].upper()}", headers)
        if answer.mails:
            # The mails this event queued, once Stripe has its answer (see `outbox.sender`).
            return ClosingIterator([body], outbox.sender(self.app, answer.mails))
        return [body]
