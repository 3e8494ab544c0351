"""Stripe webhooks: `POST /stripe/webhook`, the event inbox and the `flask stripe` commands."""

from flask import Blueprint

from support import cookieless

bp = Blueprint("webhooks", __name__)
bp.record_once(lambda state: cookieless.install(state.app, "/stripe/"))

from support.webhooks import routes  # noqa: E402, F401
