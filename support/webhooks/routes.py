"""`POST /stripe/webhook`: verify, store, answer. The worker does the rest.

Stripe asks for a 2xx quickly, before any complex logic, and a delivery that
read from Stripe or wrote the ledger here would hold a web worker while
readers wait. So a delivery only checks its signature, stores the event as
`pending`, reduced to what applying it and the staff inbox need (see
`payloads`; a duplicate id changes nothing) and answers 200 with the event's
status; only a failure to store answers 5xx, for Stripe to retry. The body
is capped by Werkzeug (MAX_CONTENT_LENGTH): a larger one is a 413.
"""

from __future__ import annotations

import logging

from flask import jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from support import stripe_api
from support.errors import render_error
from support.extensions import csrf, db, limiter
from support.webhooks import bp, inbox

log = logging.getLogger(__name__)


@limiter.request_filter
def _is_delivery() -> bool:
    """Deliveries skip the rate limiter before it works out which limits apply
    (`limiter.exempt` alone still does that on every request)."""
    return request.endpoint == "webhooks.stripe_webhook"


@bp.post("/stripe/webhook")
@csrf.exempt
@limiter.exempt  # Stripe's deliveries are signed; a 429 would only make it retry later
def stripe_webhook():
    """200 `{"id", "status"}` once stored; 400 for a bad signature or body (nothing
    stored); 500 when the event could not be stored (Stripe retries)."""
    payload = request.stream.read()
    # A chunked body is cut at the cap; reading on past it is what makes Werkzeug
    # answer 413 (at the end of a body within the cap it reads nothing).
    request.stream.read(1)
    try:
        event = stripe_api.verify_webhook(payload, request.headers.get("Stripe-Signature"))
        inbox.check_event(event)
    except stripe_api.BadSignature as refused:
        log.warning("Webhook refused: %s", refused)
        return render_error(400, "Invalid or expired Stripe-Signature")
    except ValueError:
        log.warning("Webhook refused: the signed body is not a Stripe event")
        return render_error(400, "The body is not a Stripe event")
    try:
        status = inbox.store_event(event)
    except SQLAlchemyError:
        log.exception("Webhook %s %s could not be stored", event["id"], event["type"])
        db.session.rollback()
        return render_error(500, "The event could not be stored; Stripe will deliver it again")
    log.info("Webhook %s %s stored: %s", event["id"], event["type"], status)
    return jsonify(id=event["id"], status=status)
