"""Stripe webhooks: `POST /stripe/webhook`, the event inbox and the `flask stripe` commands."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from support.webhooks import routes  # noqa: E402, F401
