"""The headers that let browsers and a CDN keep `banner.js`, `banner.css` and `banner.json`.

They are the same for every reader, so their headers say so: a public
`Cache-Control` (the script's with `stale-while-revalidate`), a strong ETag to revalidate
against (304), CORS open to every origin without credentials, and nothing that
depends on who asks. There is no session under `/embed/` (`support.cookieless`), so no
`Set-Cookie` or `Vary: Cookie`. The security headers every response carries
(`support.security`) are among them.

Every article view asks for both, so what reaches the app should cost little:
the bodies are prepared once (`assets.script()`, `content.rendered()`) and so
are their headers, once per ETag.
"""

from __future__ import annotations

from functools import lru_cache

from support.banner import assets
from support.security import DEFAULT_HEADERS

SCRIPT_CACHE = "public, max-age=3600, stale-while-revalidate=86400"
# A campaign an editor publishes reaches readers within a minute: 30 s in each
# process (`content.rendered`), 30 s in browsers and CDNs, and no stale copy after.
CONTENT_CACHE = "public, max-age=30"
JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
JSON = "application/json"
GZIP = ("Content-Encoding", "gzip")
# Both encodings of the script share its URL: caches must keep them apart.
VARY = ("Vary", "Accept-Encoding")

Headers = tuple[tuple[str, str], ...]


@lru_cache(maxsize=16)
def cached_headers(etag: str, cache: str, content_type: str, *extra: tuple[str, str]) -> Headers:
    """The headers of a public, CORS-open, revalidatable embed response.

    Kept per ETag: banner.json's changes only when its content does, so a few
    entries hold both encodings of the script and the content in every language.
    """
    return (
        ("Content-Type", content_type),
        ("ETag", f'"{etag}"'),
        ("Cache-Control", cache),
        ("Access-Control-Allow-Origin", "*"),
        *extra,
        # The security hook would add these to each response; finding them is cheaper.
        *DEFAULT_HEADERS.items(),
    )


def _variant(
    asset: assets.Asset, content_type: str, accept_encoding: str
) -> tuple[bytes, str, Headers]:
    if "gzip" in accept_encoding:
        headers = cached_headers(asset.gzip_etag, SCRIPT_CACHE, content_type, GZIP, VARY)
        return asset.gzipped, asset.gzip_etag, headers
    return asset.body, asset.etag, cached_headers(asset.etag, SCRIPT_CACHE, content_type, VARY)


def script_variant(accept_encoding: str) -> tuple[bytes, str, Headers]:
    """The script's bytes, ETag and headers for a client's Accept-Encoding."""
    return _variant(assets.script(), JS, accept_encoding)


def stylesheet_variant(accept_encoding: str) -> tuple[bytes, str, Headers]:
    """The iframe page's stylesheet, as `script_variant` (it changes as rarely)."""
    return _variant(assets.stylesheet(), CSS, accept_encoding)
