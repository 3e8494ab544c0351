"""No session at all under some paths: `/embed/` and `/stripe/`.

The banner's responses must be identical for every reader and cacheable by a
CDN, and Stripe's webhook deliveries carry no cookies worth reading. Flask-Login
looks at the session after every request, which makes Flask add
`Vary: Cookie` (and costs time: a sixth of the Flask work on a webhook
delivery). Under these prefixes the session is Flask's read-only null session,
so nothing is read from or written to cookies there.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin


class CookielessSessions(SessionInterface):
    """Delegates to the app's own session interface everywhere but under `prefixes`."""

    def __init__(self, inner: SessionInterface):
        self.inner = inner
        self.prefixes: tuple[str, ...] = ()

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """A null session under the prefixes, the usual one elsewhere."""
        if request.path.startswith(self.prefixes):
            return self.make_null_session(app)
        return self.inner.open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Save as the app's own interface does (never called for a null session)."""
        self.inner.save_session(app, session, response)


def install(app: Flask, prefix: str) -> None:
    """Serve paths under `prefix` without a session."""
    interface = app.session_interface
    if not isinstance(interface, CookielessSessions):
        interface = app.session_interface = CookielessSessions(interface)
    if prefix not in interface.prefixes:
        interface.prefixes += (prefix,)
