"""Where a gift came from: the article (`source`), `campaign` and `variant`.

These arrive from links on other sites, so each is cleaned here once:
`source` only if it is an http(s) URL on `SUPPORT_ALLOWED_HOSTS`, the others
only if they are short tokens. Anything else is dropped, never an error: a
reader should not be refused because a link was mangled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_SOURCE_LENGTH = 500


def clean_source(value: str | None) -> str | None:
    """The URL if it is http(s) on an allowed host (or a subdomain of one), else None."""
    if not value or len(value) > MAX_SOURCE_LENGTH:
        return None
    try:
        parts = urlsplit(value.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        return None
    allowed = current_app.config["SUPPORT_ALLOWED_HOSTS"]
    if not any(host == h or host.endswith("." + h) for h in allowed):
        return None
    # Drop any fragment: the thanks page adds its own (#supported).
    return parts._replace(fragment="").geturl()


def clean_token(value: str | None) -> str | None:
    """A campaign or variant name, or None if it is not a short plain token."""
    if value and _TOKEN.fullmatch(value.strip()):
        return value.strip()
    return None


@dataclass(frozen=True)
class Attribution:
    source: str | None = None
    campaign: str | None = None
    variant: str | None = None

    @classmethod
    def from_values(cls, values) -> Attribution:
        """Clean attribution out of request args or form data."""
        return cls(
            source=clean_source(values.get("source")),
            campaign=clean_token(values.get("campaign")),
            variant=clean_token(values.get("variant")),
        )

    def as_params(self) -> dict[str, str]:
        """The non-empty fields, for URLs and Stripe metadata."""
        return {k: v for k, v in vars(self).items() if v}
