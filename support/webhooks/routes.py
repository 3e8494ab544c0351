"""`POST /stripe/webhook`: verify, store, apply, answer Stripe."""

from __future__ import annotations

import logging

import stripe
from flask import abort, jsonify, request

from support import stripe_api
from support.errors import render_error
from support.extensions import csrf, limiter
from support.mail import outbox
from support.webhooks import bp, inbox

log = logging.getLogger(__name__)

# Stripe's events are a few kilobytes; anything near this is not from Stripe.
MAX_BODY = 1024 * 1024


def read_body(limit: int = MAX_BODY) -> bytes:
    """The raw body, or 413 past `limit` bytes (whatever Content-Length claims)."""
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    chunks, size = [], 0
    while chunk := request.stream.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            abort(413)
        chunks.append(chunk)
    return b"".join(chunks)


@limiter.request_filter
def is_delivery() -> bool:
    """Stripe's deliveries are signed and a 429 would only make Stripe retry later,
    so the rate limiter skips them before doing any of its per-request work."""
    return request.blueprint == bp.name


@bp.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    """200 once the event is applied (or was already), 400 for a bad signature or
    body (nothing stored), 500 when applying failed (Stripe will retry)."""
    payload = read_body()
    try:
        event = stripe_api.verify_webhook(payload, request.headers.get("Stripe-Signature"))
        inbox.check_event(event)
    except stripe.SignatureVerificationError as error:
        log.warning("Webhook refused: %s", error.user_message or error)
        return render_error(400, "Invalid or expired Stripe-Signature")
    except ValueError:
        log.warning("Webhook refused: the signed body is not a Stripe event")
        return render_error(400, "The body is not a Stripe event")
    status, mails = inbox.receive(event, payload)
    log.info("Webhook %s %s: %s", event["id"], event["type"], status)
    if status == "failed":
        message = "The event could not be applied; it will be retried"
        body = {"id": event["id"], "status": status, "error": {"status": 500, "message": message}}
        return jsonify(body), 500
    response = jsonify({"id": event["id"], "status": status})
    if mails:
        send_owed_mail(response, mails)
    return response


def send_owed_mail(response, mails: list[int]) -> None:
    """Send the mails this event queued (thank-you, failed payment) once Stripe has its 200.

    Only those: mails owed by earlier events are `flask mail send`'s, so an event
    that queued nothing costs no extra transaction.

    Guarded: mail can never turn a processed event into a failed delivery; what
    is not sent here is retried by `flask mail send`.
    """
    try:
        outbox.send_after_response(response, mails)
    except Exception:
        log.exception("Could not schedule the mail owed after a webhook")
