"""Response headers every page gets unless its view chose otherwise.

No referrer leaves the site (`same-origin`): an article's analytics must not
learn that a reader came from the support pages. Reader pages carry a CSRF token tied to
the reader's session, so they must not be stored by shared caches.

Every HTML page gets a strict Content-Security-Policy (`page_policy`): scripts,
styles and images only from this site, and no inline script, style attribute or
event handler anywhere, so markup that slipped into a page cannot run. Pages
must not be framed by other sites (the banner's iframe page names the article
hosts that may frame it). Other responses keep `frame-ancestors 'none'`.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app

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


@lru_cache(maxsize=32)
def _policy(form_targets: str, frame_ancestors: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"form-action {form_targets}",
            "base-uri 'none'",
            "object-src 'none'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


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
        return response
