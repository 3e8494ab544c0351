"""Response headers every page gets unless its view chose otherwise.

No referrer leaves the site (`same-origin`): an article's analytics must not
learn that a reader came from the support pages. Reader pages carry a CSRF token tied to
the reader's session, so they must not be stored by shared caches; payment
forms must not be framed by other sites (the banner's iframe page sets its own
`frame-ancestors`).
"""

from __future__ import annotations

from flask import Flask, Response

DEFAULT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


def init_app(app: Flask) -> None:
    """Add the default headers after every request."""

    @app.after_request
    def add_default_headers(response: Response) -> Response:
        for name, value in DEFAULT_HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
