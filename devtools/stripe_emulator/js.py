"""The Stripe.js stand-in's side of the emulator, under ``/v3/``.

``/v3/stripe.js`` is the script a page loads instead of ``https://js.stripe.com/v3``;
the card form it mounts is the page ``/v3/elements/payment`` (in an iframe, with its own
strict Content-Security-Policy). That frame confirms through the JSON routes below,
which take the object's ``client_secret`` as Stripe.js's own calls do.
"""

import json
from importlib import resources
from urllib.parse import parse_qsl

from . import elements_flow, js_session
from .errors import StripeError, invalid
from .router import Router
from .webhooks import Events

STATIC = {
    "/v3/stripe.js": ("stripe.js", "text/javascript; charset=utf-8"),
    "/v3/elements/payment.js": ("payment.js", "text/javascript; charset=utf-8"),
    "/v3/elements/payment.css": ("payment.css", "text/css; charset=utf-8"),
}
FRAME_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors *"
)
CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}


def static(name: str) -> bytes:
    """A file of the stand-in, as shipped in ``static/``."""
    return resources.files(__package__).joinpath("static", name).read_bytes()


def frame_html(query: dict) -> str:
    """The card form's document: language and direction follow ``locale``."""
    lang = "ar" if (query.get("locale") or "").split("-")[0] == "ar" else "en"
    direction = "rtl" if lang == "ar" else "ltr"
    return (
        f'<!doctype html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="/v3/elements/payment.css">'
        '<script src="/v3/elements/payment.js" defer></script></head>'
        '<body><form id="payment-form" novalidate></form></body></html>'
    )


def get_session(emu, q: dict, id: str) -> dict:
    """GET /v3/checkout_sessions/{id}?client_secret=…"""
    events = Events(emu.store)
    with emu.store.lock:
        session = elements_flow.session_for(emu.store, events, id, q.get("client_secret"))
        emu.deliverer.enqueue(events)
        return js_session.view(emu.store, session)


def confirm_session(emu, q: dict, id: str) -> dict:
    """POST /v3/checkout_sessions/{id}/confirm (``client_secret``, ``card``, …)."""
    result = emu.confirm_checkout(
        id,
        q.get("client_secret"),
        q.get("card"),
        three_d_secure=q.get("three_d_secure"),
        email=q.get("email"),
        name=q.get("name"),
    )
    with emu.store.lock:
        session = result["session"]
        view = js_session.view(emu.store, session)
    return {
        "status": result["status"],
        "session": view,
        "return_url": js_session.return_url(session),
    }


def _setup_intent(emu, q: dict, id: str) -> dict:
    with emu.store.lock:
        seti = emu.store.require(id, "setup_intent")
        elements_flow.check_secret(seti, q.get("client_secret"))
        return dict(seti)


def get_setup_intent(emu, q: dict, id: str) -> dict:
    """GET /v3/setup_intents/{id}?client_secret=…"""
    return _setup_intent(emu, q, id)


def confirm_setup_intent(emu, q: dict, id: str) -> dict:
    """POST /v3/setup_intents/{id}/confirm: the SetupIntent, its error kept inside."""
    _setup_intent(emu, q, id)
    if not q.get("card") and not q.get("three_d_secure"):
        raise invalid("Missing required param: card.", "card", "parameter_missing")
    return emu.confirm_setup(id, q.get("card"), q.get("three_d_secure"))


def build_router() -> Router:
    """JSON routes whose handlers take (emulator, params, **path)."""
    r = Router()
    r.add("GET", "/v3/checkout_sessions/{id}", get_session)
    r.add("POST", "/v3/checkout_sessions/{id}/confirm", confirm_session)
    r.add("GET", "/v3/setup_intents/{id}", get_setup_intent)
    r.add("POST", "/v3/setup_intents/{id}/confirm", confirm_setup_intent)
    return r


ROUTES = build_router()


def handle(emu, method: str, path: str, query: str, body: bytes):
    """Answer one ``/v3/`` request: (status, headers, body bytes)."""
    if method == "GET" and path in STATIC:
        name, content_type = STATIC[path]
        return 200, {"Content-Type": content_type, **CORS}, static(name)
    if method == "GET" and path == "/v3/elements/payment":
        headers = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": FRAME_CSP}
        return 200, headers, frame_html(dict(parse_qsl(query))).encode()
    handler, found = ROUTES.match(method, path)
    json_type = {"Content-Type": "application/json", **CORS}
    if handler is None:
        error = StripeError(404, f"Unrecognized request URL ({method}: {path}).")
        return 404, json_type, json.dumps(error.body()).encode()
    params = dict(parse_qsl(query))
    params.update(parse_qsl(body.decode("utf-8", "replace")))
    try:
        data = handler(emu, params, **found)
    except StripeError as exc:
        return exc.status, json_type, json.dumps(exc.body()).encode()
    emu.deliverer.flush()
    return 200, json_type, json.dumps(data).encode()
