"""No session at all under `/embed/` and `/stripe/`: the banner's responses must be
identical for every reader and cacheable by a CDN, and Stripe's deliveries
have no use for one.

Flask-Login looks at the session after every request, which makes Flask add
`Vary: Cookie` (and costs time). Under `/embed/` the session is Flask's
read-only null session, so nothing is read from or written to cookies there.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin

PREFIXES = ("/embed/", "/stripe/")


class EmbedSessions(SessionInterface):
    """Delegates to the app's own session interface everywhere but `/embed/`."""

    def __init__(self, inner: SessionInterface):
        self.inner = inner

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """A null session for the banner's and the webhook's routes, the usual one elsewhere."""
        if request.path.startswith(PREFIXES):
            return self.make_null_session(app)
        return self.inner.open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Save as the app's own interface does (never called for a null session)."""
        self.inner.save_session(app, session, response)


def install(app: Flask) -> None:
    """Wrap the app's session interface once."""
    if not isinstance(app.session_interface, EmbedSessions):
        app.session_interface = EmbedSessions(app.session_interface)
