"""Where a gift came from: the article (`source`), `campaign` and `variant`.

These arrive from links on other sites, so each is cleaned here once:
`source` only if it is a plainly spelled http(s) URL on `SUPPORT_ALLOWED_HOSTS`
(the thanks page links to it), the others only if they are short tokens.
Anything else is dropped, never an error: a reader should not be refused
because a link was mangled.

A source keeps only the article and the campaign it was shared in (`reduce_source`):
newsletter links often carry the reader's address (`?email=...`,
`utm_email=...`) or a tracking id, and whatever a source holds is copied into
the ledger, Stripe's metadata, the stored webhook events, the staff pages and
the CSV. The same rule cleans sources read back from Stripe and rows stored
before it (`flask supporters clean-sources`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from support.article_hosts import HOST, is_allowed

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_SOURCE_LENGTH = 500
# The standard campaign parameters: the only part of a query string a source keeps,
# in this order (so one article shared in one campaign is always spelled the same).
CAMPAIGN_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
# An "@" that does not start a path segment (`/@desk/` is a handle, `/a@b.org` an address).
_ADDRESS_IN_PATH = re.compile(r"[^/]@")


def clean_source(value: str | None) -> str | None:
    """A source from a link or a form: `reduce_source(value)` if it is on an allowed
    host (or a subdomain of one, any port) with a scheme allowed there
    (`support.article_hosts`, the rule the iframe banner's `frame-ancestors` follows);
    else None."""
    source = reduce_source(value)
    if source is None:
        return None
    parts = urlsplit(source)
    if not is_allowed(parts.scheme, parts.hostname or ""):
        return None
    return source


def reduce_source(value: str | None) -> str | None:
    """What may be stored of a source URL: its scheme, host (and port) and path, and
    the campaign parameters whose values are short tokens; None if it is not a plain
    http(s) URL, or its path looks like it holds an address.

    Browsers and `urlsplit` disagree on odd URLs (a `\\` ends the host for one and
    not the other, tabs and newlines vanish, `%2E` or `。` become dots), so only
    the plain, canonical spelling is kept: the thanks page links to it. The
    fragment and every other parameter go (the thanks page adds its own
    fragment, `#supported`). The host list is not checked here, so sources stored
    before a host was removed from `SUPPORT_ALLOWED_HOSTS` keep counting.
    """
    if not value or len(value) > MAX_SOURCE_LENGTH or not _plain(value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not HOST.fullmatch(host) or len(host) > 253:
        return None
    netloc = host if port is None else f"{host}:{port}"
    article = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    # The article must be spelled exactly as given (no userinfo, no odd port or case).
    if not value.startswith(article) or value[len(article) : len(article) + 1] not in "?#":
        return None
    if _ADDRESS_IN_PATH.search(_unquoted(parts.path)):
        return None
    query = urlencode(campaign_parameters(parts.query))
    return f"{article}?{query}" if query else article


def campaign_parameters(query: str) -> list[tuple[str, str]]:
    """The first short-token value of each campaign parameter in `query`, in order;
    a value that is anything else (an address, a long id, free text) is left out."""
    found: dict[str, str] = {}
    for name, value in parse_qsl(query):
        if name in CAMPAIGN_PARAMETERS and name not in found and _TOKEN.fullmatch(value):
            found[name] = value
    return [(name, found[name]) for name in CAMPAIGN_PARAMETERS if name in found]


def _unquoted(text: str) -> str:
    """`text` percent-decoded until nothing changes (`%2540` is an `@` too)."""
    while (decoded := unquote(text)) != text:
        text = decoded
    return text


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
