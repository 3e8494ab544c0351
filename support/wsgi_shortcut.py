"""Answering a few hot requests in front of Flask.

A shortcut wraps the app's WSGI callable. Its `answer` takes a request (calls
`start_response` and returns the body) or returns None, and the request goes
on to Flask. Stripe's deliveries use one (`webhooks.delivery`), which says
why Flask's request machinery was too much for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask


class Shortcut:
    """A WSGI layer in front of the app: `answer` or pass on."""

    def __init__(self, app: Flask, wsgi_app: Callable):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        answered = self.answer(environ, start_response)
        return self.wsgi_app(environ, start_response) if answered is None else answered

    def answer(self, environ: dict, start_response: Callable) -> Iterable[bytes] | None:
        """The response body for a request this shortcut takes, else None."""
        raise NotImplementedError

    @classmethod
    def install(cls, app: Flask) -> None:
        """Put this shortcut in front of the app, once."""
        layer = app.wsgi_app
        while isinstance(layer, Shortcut):
            if isinstance(layer, cls):
                return
            layer = layer.wsgi_app
        app.wsgi_app = cls(app, app.wsgi_app)
