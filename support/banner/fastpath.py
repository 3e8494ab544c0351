"""A WSGI shortcut for the banner's two hot routes, `banner.js` and `banner.json`.

Every article view asks for both, and their answers are bytes prepared once
(`assets.script()`, `content.rendered()`). Going through Flask would add its
request hooks (rate limiter, session, headers) to each of them, several times
the cost of the answer itself; so a plain GET for either is answered here, with
exactly the headers the Flask views send. A `banner.json` whose cached content
is missing or stale falls through to the view, which renders it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs

from werkzeug.http import parse_etags

from support.banner import assets, content
from support.security import DEFAULT_HEADERS
from support.wsgi_shortcut import Shortcut

SCRIPT_PATH = "/embed/banner.js"
JSON_PATH = "/embed/banner.json"
SCRIPT_CACHE = "public, max-age=3600, stale-while-revalidate=86400"
CONTENT_CACHE = "public, max-age=60, stale-while-revalidate=600"
JS = "text/javascript; charset=utf-8"
JSON = "application/json"


def cached_headers(etag: str, cache: str, **extra: str) -> dict[str, str]:
    """The headers of a public, CORS-open, revalidatable embed response."""
    return {
        **DEFAULT_HEADERS,
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


class EmbedFastPath(Shortcut):
    """Answers GET banner.js and (fresh) banner.json; passes everything else on."""

    def answer(self, environ: dict, start_response: Callable) -> Iterable[bytes] | None:
        """banner.js, or banner.json while its cached content is fresh."""
        if environ.get("REQUEST_METHOD") == "GET":
            path = environ.get("PATH_INFO")
            if path == SCRIPT_PATH:
                body, headers = script_variant(environ.get("HTTP_ACCEPT_ENCODING", ""))
                return self._answer(environ, start_response, body, headers, JS)
            if path == JSON_PATH:
                lang = parse_qs(environ.get("QUERY_STRING", "")).get("lang", [""])[0]
                cache = self.app.extensions.get("banner_content", {})
                entry = cache.get(content.pick_lang(lang))
                if entry is not None and entry.expires > time.monotonic():
                    headers = cached_headers(entry.etag, CONTENT_CACHE)
                    return self._answer(environ, start_response, entry.body, headers, JSON)
        return None

    @staticmethod
    def _answer(environ, start_response, body, headers, mimetype) -> list[bytes]:
        """200 with `body`, or 304 when the client has it already."""
        if not_modified(environ.get("HTTP_IF_NONE_MATCH"), headers):
            start_response("304 NOT MODIFIED", list(headers.items()))
            return []
        fields = [*headers.items(), ("Content-Type", mimetype), ("Content-Length", str(len(body)))]
        start_response("200 OK", fields)
        return [body]
