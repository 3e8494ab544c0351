"""Hosted HTML pages: Checkout (``/c/pay/{id}``), the billing portal (``/p/session/{id}``)
and a charge's receipt (``/receipts/payment/{ch_id}``, its ``receipt_url``).

Plain forms without JavaScript so headless browsers and plain HTTP clients can drive
them. Every interpolated value goes through ``html.escape``.
"""

import time
from html import escape

from . import payment_flow, subscription_flow
from .catalog import format_amount
from .errors import StripeError
from .webhooks import Events

STYLE = """
body{font-family:system-ui,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0;padding:2rem}
main{max-width:28rem;margin:auto;background:#fff;border-radius:8px;padding:1.5rem;
box-shadow:0 2px 8px rgba(0,0,0,.08)}
.badge{display:inline-block;background:#ffde92;color:#5f3b00;border-radius:4px;
padding:.1rem .5rem;font-size:.75rem}
label{display:block;margin:.75rem 0}
input,select{display:block;width:100%;box-sizing:border-box;padding:.5rem;margin-top:.25rem}
button{padding:.6rem 1rem;margin:.25rem .25rem .25rem 0;border:0;border-radius:4px;
background:#635bff;color:#fff;cursor:pointer}
button.secondary{background:#e3e8ee;color:#1a1f36}
.error{color:#df1b41}.amount{font-size:1.5rem;font-weight:600}
section{border-top:1px solid #e3e8ee;padding:.75rem 0}
table.summary{border-collapse:collapse;width:100%}
table.summary th,table.summary td{text-align:left;padding:.25rem .5rem;
border-bottom:1px solid #e3e8ee}
pre.json{overflow:auto;background:#f6f9fc;padding:.5rem;font-size:.8rem}
"""


def page(title: str, body: str, lang: str = "en") -> str:
    """Wrap ``body`` (already escaped HTML) in a complete document."""
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
        '<span class="badge">Test mode · Stripe emulator</span>'
        f"{body}</main></body></html>"
    )


def _date(ts) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts)) if ts else ""


def _price_text(price: dict, quantity: int = 1) -> str:
    text = format_amount(price["unit_amount"] * quantity, price["currency"])
    recurring = price.get("recurring")
    if recurring:
        count = recurring["interval_count"]
        per = recurring["interval"] if count == 1 else f"{count} {recurring['interval']}s"
        text += f" per {per}"
    return text


def checkout_html(emu, session: dict, error: str = "", email=None, name=None) -> str:
    """The Checkout page for ``session`` (or a message when it is not open)."""
    store = emu.store
    items = store.extra.get(session["id"], {}).get("line_items", [])
    title = ", ".join(item["description"] for item in items) or "Checkout"
    heading = f"<h1>{escape(title)}</h1>"
    lang = session["locale"] if session["locale"] not in (None, "auto") else "en"
    if session["status"] != "open":
        message = {
            "complete": "This checkout session is already complete.",
            "expired": "This checkout session has expired.",
        }[session["status"]]
        return page("Checkout", f'{heading}<p id="message">{escape(message)}</p>', lang)
    amounts = "".join(
        f'<p class="amount" id="amount">{escape(_price_text(i["price"], i["quantity"]))}</p>'
        for i in items
    )
    email = session["customer_email"] if email is None else email
    if email is None and session["customer"]:
        email = (store.get(session["customer"], "customer") or {}).get("email")
    error_html = f'<p class="error" id="error" role="alert">{escape(error)}</p>' if error else ""
    cancel = ""
    if session["cancel_url"]:
        cancel = (
            '<button type="submit" name="action" value="cancel" id="cancel" '
            'class="secondary" formnovalidate>Cancel</button>'
        )
    form = (
        f'<form method="post" action="/c/pay/{escape(session["id"])}">'
        f'<label>Email<input type="email" name="email" id="email" required '
        f'value="{escape(email or "")}"></label>'
        f'<label>Name on card<input name="name" id="name" value="{escape(name or "")}">'
        "</label>"
        '<label>Card<select name="card" id="card">'
        '<option value="4242424242424242">4242 4242 4242 4242 (succeeds)</option>'
        '<option value="4000000000000002">4000 0000 0000 0002 (declined)</option>'
        "</select></label>"
        '<button type="submit" name="action" value="pay" id="pay">Pay</button>'
        f"{cancel}</form>"
    )
    return page("Checkout", heading + amounts + error_html + form, lang)


def checkout_post(emu, session_id: str, form: dict):
    """Handle the Checkout form; returns (status, headers, html)."""
    store = emu.store
    with store.lock:
        session = store.get(session_id, "checkout.session")
        if session is None or session["ui_mode"] != "hosted_page":
            return 404, {}, page("Not found", "<h1>Checkout session not found</h1>")
        if form.get("action") == "cancel":
            if session["cancel_url"]:
                return 303, {"Location": session["cancel_url"]}, ""
            return 200, {}, checkout_html(emu, session)
    email, name = form.get("email", ""), form.get("name", "")
    decline = form.get("action") == "decline" or form.get("card") == "4000000000000002"
    try:
        emu.pay(session_id, email=email, name=name, decline=decline)
    except StripeError as exc:
        with store.lock:
            html = checkout_html(emu, session, exc.message, email, name)
        return (402 if exc.status == 402 else 200), {}, html
    target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
    return 303, {"Location": target}, ""


def checkout_get(emu, session_id: str):
    """Render the Checkout page; returns (status, headers, html)."""
    store = emu.store
    events = Events(store)
    with store.lock:
        session = store.get(session_id, "checkout.session")
        if session is None or session["ui_mode"] != "hosted_page":
            return 404, {}, page("Not found", "<h1>Checkout session not found</h1>")
        payment_flow.expire_if_due(store, events, session)
        html = checkout_html(emu, session)
        emu.deliverer.enqueue(events)
    emu.deliverer.flush()
    return 200, {}, html


def _subscription_html(sub: dict) -> str:
    sub_id = escape(sub["id"])
    lines = "".join(
        f"<p>{escape(_price_text(i['price'], i['quantity']))}</p>" for i in sub["items"]["data"]
    )
    end = _date(min(i["current_period_end"] for i in sub["items"]["data"]))
    status = sub["status"]
    if sub["cancel_at_period_end"] and status != "canceled":
        state = f"Cancels on {end}"
    elif status == "canceled":
        state = f"Canceled on {_date(sub['ended_at'])}"
    else:
        state = f"{status.replace('_', ' ').capitalize()} · renews on {end}"
    buttons = ""
    if status != "canceled":

        def button(action, label, css=""):
            return (
                f'<button type="submit" name="action" value="{action}" class="{css}" '
                f'id="{action}-{sub_id}" data-subscription="{sub_id}">{label}</button>'
            )

        buttons = button("cancel", "Cancel subscription")
        if sub["cancel_at_period_end"]:
            buttons += button("resume", "Don't cancel", "secondary")
        else:
            buttons += button("cancel_at_period_end", "Cancel at period end", "secondary")
        buttons = (
            f'<form method="post"><input type="hidden" name="subscription" value="{sub_id}">'
            f"{buttons}</form>"
        )
    return (
        f'<section class="subscription" id="{sub_id}" data-status="{escape(status)}">'
        f'{lines}<p class="state">{escape(state)}</p>{buttons}</section>'
    )


def portal_get(emu, portal_id: str):
    """Render the billing portal page; returns (status, headers, html)."""
    store = emu.store
    with store.lock:
        portal = store.get(portal_id, "billing_portal.session")
        if portal is None:
            return 404, {}, page("Not found", "<h1>Portal session not found</h1>")
        customer = store.get(portal["customer"], "customer") or {}
        subs = [s for s in store.all("subscription") if s["customer"] == portal["customer"]]
        body = f"<h1>Your subscriptions</h1><p>{escape(customer.get('email') or '')}</p>"
        body += "".join(_subscription_html(s) for s in subs) or "<p>No subscriptions.</p>"
        if portal["return_url"]:
            body += (
                f'<p><a id="return" href="{escape(portal["return_url"])}">Return to site</a></p>'
            )
    return 200, {}, page("Billing portal", body)


def portal_post(emu, portal_id: str, form: dict):
    """Apply a portal button (cancel, cancel_at_period_end, resume) and redirect back."""
    store = emu.store
    with store.lock:
        portal = store.get(portal_id, "billing_portal.session")
        sub = store.get(form.get("subscription"), "subscription")
        if portal is None or sub is None or sub["customer"] != portal["customer"]:
            return 404, {}, page("Not found", "<h1>Subscription not found</h1>")
    action = form.get("action")
    try:
        if action == "cancel":
            emu.cancel(sub["id"])
        elif action == "cancel_at_period_end":
            emu.cancel(sub["id"], at_period_end=True)
        elif action == "resume":
            emu.run(subscription_flow.update, sub["id"], {"cancel_at_period_end": False})
    except StripeError as exc:
        return 400, {}, page("Billing portal", f'<p class="error">{escape(exc.message)}</p>')
    return 303, {"Location": f"/p/session/{portal_id}"}, ""


def receipt_get(emu, charge_id: str):
    """A charge's receipt page (what ``charge.receipt_url`` opens); (status, headers, html)."""
    with emu.store.lock:
        ch = emu.store.get(charge_id, "charge")
        if ch is None:
            return 404, {}, page("Not found", "<h1>Receipt not found</h1>")
        card = (ch.get("payment_method_details") or {}).get("card") or {}
        amount = format_amount(ch["amount"], ch["currency"])
        body = (
            f'<h1>Receipt</h1><p class="amount">{escape(amount)}'
            f"</p><p>Paid {escape(_date(ch['created']))}"
            f" with {escape(card.get('brand') or 'card')} {escape(card.get('last4') or '')}</p>"
        )
        if ch.get("amount_refunded"):
            refunded = format_amount(ch["amount_refunded"], ch["currency"])
            body += f"<p>Refunded {escape(refunded)}</p>"
    return 200, {}, page("Receipt", body)
