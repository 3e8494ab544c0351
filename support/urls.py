"""Absolute addresses of this service, for what is read away from it.

Mails, Stripe's return URLs, manage and staff links and the banner's links are
opened by readers elsewhere, so they are built on `SUPPORT_PUBLIC_URL` (not the
address a request happened to reach) from the route's endpoint, never a written path.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint: str, **values: object) -> str:
    """The absolute URL of `endpoint` on SUPPORT_PUBLIC_URL, also outside a request.

    Values the route does not take become the query string, in the order given.
    """
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["SUPPORT_PUBLIC_URL"] + path


def public_host() -> str:
    """The host name readers reach this service at (SUPPORT_PUBLIC_URL's), e.g. for
    registering it with Stripe; empty when the setting has none."""
    return urlsplit(current_app.config["SUPPORT_PUBLIC_URL"]).hostname or ""


def served_over_https() -> bool:
    """Whether readers reach this service over https (SUPPORT_PUBLIC_URL's scheme)."""
    return current_app.config["SUPPORT_PUBLIC_URL"].startswith("https://")
