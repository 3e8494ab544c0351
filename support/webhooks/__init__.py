"""Stripe webhooks: `POST /stripe/webhook` stores events, the worker applies them."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from support.webhooks import routes  # noqa: E402, F401
