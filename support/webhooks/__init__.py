"""Stripe webhooks: `POST /stripe/webhook`, the event inbox and the `flask stripe` commands."""

from flask import Blueprint

from support.webhooks import delivery

bp = Blueprint("webhooks", __name__)
bp.record_once(lambda state: delivery.DeliveryShortcut.install(state.app))

from support.webhooks import routes  # noqa: E402, F401
