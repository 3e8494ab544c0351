"""`POST /stripe/webhook`: the URL, and its answer when Flask serves it.

Deliveries are normally answered by `delivery.DeliveryShortcut` before they
reach Flask; this view gives the same answer should the app be served
without it, and the route keeps the URL Flask's (a GET gets a 405).
"""

from __future__ import annotations

from flask import current_app, request

from support.extensions import csrf, limiter
from support.mail import outbox
from support.webhooks import bp
from support.webhooks.delivery import PATH, deliver, to_json


@bp.post(PATH)
@csrf.exempt
@limiter.exempt  # Stripe's deliveries are signed; a 429 would only make it retry later
def stripe_webhook():
    """The delivery's answer (see `delivery.deliver`)."""
    answer = deliver(request.environ)
    response = current_app.response_class(
        to_json(answer), status=answer.status, mimetype="application/json"
    )
    if answer.mails:
        outbox.send_after_response(response, answer.mails)
    return response
