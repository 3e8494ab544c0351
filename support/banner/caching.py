"""How `banner.js` and `banner.json` are cached: by browsers, by the CDN in front, here.

Both are the same for every reader, so their headers say so: a public
`Cache-Control` with `stale-while-revalidate`, a strong ETag to revalidate
against (304), CORS open to every origin without credentials, and nothing that
depends on who asks. There is no session under `/embed/` (`cookieless`), so no
`Set-Cookie` or `Vary: Cookie`; the security headers are added by
`support.security`, as on every response.
"""

from __future__ import annotations

from werkzeug.http import parse_etags

from support.banner import assets

SCRIPT_CACHE = "public, max-age=3600, stale-while-revalidate=86400"
CONTENT_CACHE = "public, max-age=60, stale-while-revalidate=600"
JS = "text/javascript; charset=utf-8"
JSON = "application/json"


def cached_headers(etag: str, cache: str, **extra: str) -> dict[str, str]:
    """The headers of a public, CORS-open, revalidatable embed response."""
    return {
        "ETag": f'"{etag}"',
        "Cache-Control": cache,
        "Access-Control-Allow-Origin": "*",
        **extra,
    }


def script_variant(accept_encoding: str) -> tuple[bytes, dict[str, str]]:
    """The script's bytes and headers for a client's Accept-Encoding."""
    asset = assets.script()
    if "gzip" in accept_encoding:
        return asset.gzipped, cached_headers(
            asset.gzip_etag, SCRIPT_CACHE, **{"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        )
    return asset.body, cached_headers(asset.etag, SCRIPT_CACHE, Vary="Accept-Encoding")


def not_modified(if_none_match: str | None, headers: dict[str, str]) -> bool:
    """Whether the client's `If-None-Match` already names this ETag."""
    return bool(if_none_match) and parse_etags(if_none_match).contains(headers["ETag"][1:-1])
