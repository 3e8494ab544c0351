"""Links from staff pages to the same object in Stripe's dashboard.

Staff pages only: nothing here talks to Stripe, so it lives beside the pages
that show the links rather than in `support.stripe_api`. Under the Stripe
emulator (`STRIPE_API_BASE` set) the objects are not in Stripe's dashboard at
all: the links open the emulator's own read-only view of them instead.
"""

from __future__ import annotations

from flask import current_app

DASHBOARD = "https://dashboard.stripe.com/"
# Where Stripe's dashboard shows each kind of object, by id prefix.
DASHBOARD_PATHS = {
    "cus_": "customers",
    "sub_": "subscriptions",
    "pi_": "payments",
    "ch_": "payments",
    "in_": "invoices",
    "evt_": "events",
}


def dashboard_url(object_id: str | None) -> str | None:
    """The object's page in Stripe's dashboard (under `test/` with a test key), or in
    the emulator's; None for an id it has no page for."""
    if not object_id:
        return None
    emulator = current_app.config.get("STRIPE_API_BASE")
    if emulator:
        if not object_id.startswith(tuple(DASHBOARD_PATHS)):
            return None
        return f"{emulator.rstrip('/')}/dashboard/{object_id}"
    mode = "" if current_app.config["STRIPE_LIVEMODE"] else "test/"
    for prefix, path in DASHBOARD_PATHS.items():
        if object_id.startswith(prefix):
            return f"{DASHBOARD}{mode}{path}/{object_id}"
    return None
