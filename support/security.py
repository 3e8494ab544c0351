"""Response headers every page gets unless its view chose otherwise.

No referrer leaves the site (`same-origin`): an article's analytics must not
learn that a reader came from the support pages. Reader pages carry a CSRF token tied to
the reader's session, so they must not be stored by shared caches.

Every HTML page gets a strict Content-Security-Policy (`page_policy`): scripts,
styles and images only from this site, and no inline script, style attribute or
event handler anywhere, so markup that slipped into a page cannot run. Pages
must not be framed by other sites (the banner's iframe page names the article
hosts that may frame it). Other responses keep `frame-ancestors 'none'`.

Only the pages that take or change a card (the pay page, the supporter page) load
Stripe.js: `stripe_js_policy` adds exactly the origins Stripe documents for Stripe.js
and Elements (script, frames, and its API), or the emulator's origin when
`STRIPE_JS_URL` points at its stand-in. The appeal and article pages load nothing
from Stripe.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

DEFAULT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "frame-ancestors 'none'",
}

# Where POST /<lang>/checkout sends the reader: Chromium checks where a form's answer
# redirects against form-action too, so the appeal form needs Stripe Checkout's origin.
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def checkout_origin() -> str:
    """Stripe Checkout's origin, or the emulator's when STRIPE_API_BASE points at one."""
    base = current_app.config.get("STRIPE_API_BASE")
    if not base:
        return STRIPE_CHECKOUT_ORIGIN
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


# What Stripe's integration security guide lists for Stripe.js with Elements (no
# address autocomplete, so no maps.googleapis.com).
STRIPE_JS_SOURCES = {
    "script-src": "https://js.stripe.com https://*.js.stripe.com",
    "frame-src": "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com",
    "connect-src": "https://api.stripe.com",
}


@lru_cache(maxsize=32)
def _policy(form_targets: str, frame_ancestors: str, stripe_js: tuple = ()) -> str:
    extra = dict(stripe_js)
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {extra['script-src']}" if extra else "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            *(
                (f"frame-src {extra['frame-src']}", f"connect-src 'self' {extra['connect-src']}")
                if extra
                else ()
            ),
            f"form-action {form_targets}",
            "base-uri 'none'",
            "object-src 'none'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


def stripe_js_sources() -> dict[str, str]:
    """The origins Stripe.js needs, by directive: Stripe's own, or the stand-in's."""
    parts = urlsplit(current_app.config["STRIPE_JS_URL"])
    if parts.hostname == "js.stripe.com":
        return STRIPE_JS_SOURCES
    origin = f"{parts.scheme}://{parts.netloc}"
    return {"script-src": origin, "frame-src": origin, "connect-src": origin}


def stripe_js_policy() -> str:
    """The policy of a page that loads Stripe.js and mounts an Element."""
    sources = tuple(sorted(stripe_js_sources().items()))
    return _policy(f"'self' {checkout_origin()}", "'none'", sources)


def page_policy(frame_ancestors: str = "'none'") -> str:
    """The Content-Security-Policy of an HTML page; `frame_ancestors` for a framed page."""
    return _policy(f"'self' {checkout_origin()}", frame_ancestors)


def init_app(app: Flask) -> None:
    """Add the default headers after every request."""

    @app.after_request
    def add_default_headers(response: Response) -> Response:
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", page_policy())
            if "Cache-Control" not in response.headers:
                response.headers["Cache-Control"] = "no-store"
        for name, value in DEFAULT_HEADERS.items():
            response.headers.setdefault(name, value)
        # Fonts are public files. A page in an origin of its own (the staff preview's
        # sandboxed frames) fetches them in CORS mode, and without this gets none.
        if request.path.startswith(f"{app.static_url_path}/fonts/"):
            response.headers.setdefault("Access-Control-Allow-Origin", "*")
        return response
