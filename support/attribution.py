"""Where a gift came from: the article (`source`), `campaign` and `variant`.

These arrive from links on other sites, so each is cleaned here once:
`source` only if it is a plainly spelled http(s) URL on `SUPPORT_ALLOWED_HOSTS`
(the thanks page links to it), the others only if they are short tokens.
Anything else is dropped, never an error: a reader should not be refused
because a link was mangled.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from flask import current_app

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# A host name as a browser sends it: lowercase ASCII labels (IDN as punycode), no
# userinfo, percent signs or trailing dot, so what we check is where the link goes.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
MAX_SOURCE_LENGTH = 500


def clean_source(value: str | None) -> str | None:
    """The URL, rebuilt from its parts, if it is http(s) on an allowed host (or a
    subdomain of one) and rebuilds to exactly what was given; else None.

    Browsers and `urlsplit` disagree on odd URLs (a `\\` ends the host for one and
    not the other, tabs and newlines vanish, `%2E` or `。` become dots), so only
    the plain, canonical spelling is kept: the thanks page links to it.
    """
    if not value or len(value) > MAX_SOURCE_LENGTH or not _plain(value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(host) or len(host) > 253:
        return None
    allowed = current_app.config["SUPPORT_ALLOWED_HOSTS"]
    if not any(host == h or host.endswith("." + h) for h in allowed):
        return None
    netloc = host if port is None else f"{host}:{port}"
    # Drop any fragment: the thanks page adds its own (#supported).
    rebuilt = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    if rebuilt != value.split("#", 1)[0]:
        return None
    return rebuilt


def _plain(value: str) -> bool:
    """No backslash, whitespace or control/format character anywhere in `value`."""
    return "\\" not in value and not any(unicodedata.category(char)[0] in "CZ" for char in value)


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
