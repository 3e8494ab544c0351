"""A read-only view of any stored object (``/dashboard/{id}``): the emulator's stand-in for
Stripe's dashboard, where staff pages' "Open in Stripe" links lead under the emulator.

The object's plain fields in a table, then the whole object as Stripe's API answers it.
Nothing here changes anything. Every interpolated value goes through ``html.escape``.
"""

import json
import time
from html import escape

from .catalog import format_amount
from .pages import page

# Fields worth a line of their own, in this order, when the object has them.
SUMMARY = (
    "object", "status", "amount", "amount_paid", "amount_refunded", "currency", "email", "name",
    "customer", "subscription", "payment_intent", "charge", "latest_charge", "type",
    "cancel_at_period_end", "canceled_at", "created", "livemode",
)  # fmt: skip
_TIMES = {"created", "canceled_at"}
_AMOUNTS = {"amount", "amount_paid", "amount_refunded"}


def _shown(key: str, value, obj: dict) -> str:
    """A summary value as a person reads it (escaped); ids link to their own view."""
    if value is None:
        return "—"
    if key in _TIMES and isinstance(value, int):
        return escape(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value)))
    if key in _AMOUNTS and isinstance(value, int) and obj.get("currency"):
        return escape(format_amount(value, obj["currency"]))
    if isinstance(value, str) and "_" in value and key != "object":
        return f'<a href="/dashboard/{escape(value)}"><code>{escape(value)}</code></a>'
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return _shown(key, value["id"], obj)
    return escape(str(value))


def object_get(emu, object_id: str):
    """The object's read-only page; (status, headers, html)."""
    with emu.store.lock:
        obj = emu.store.get(object_id)
        if obj is None:
            return 404, {}, page("Not found", f"<h1>No object {escape(object_id)}</h1>")
        text = json.dumps(obj, indent=2, sort_keys=True)
        kind = str(obj.get("object") or "object")
        rows = "".join(
            f'<tr><th scope="row">{escape(key)}</th><td>{_shown(key, obj[key], obj)}</td></tr>'
            for key in SUMMARY
            if key in obj
        )
    body = (
        f"<h1>{escape(kind.replace('_', ' ').capitalize())} <code>{escape(object_id)}</code></h1>"
        "<p>Read only: what the emulator holds, as Stripe's dashboard would show it.</p>"
        f'<table class="summary">{rows}</table>'
        f'<section><h2>As the API answers</h2><pre class="json">{escape(text)}</pre></section>'
    )
    return 200, {"Cache-Control": "no-store"}, page(f"{kind} {object_id}", body)
