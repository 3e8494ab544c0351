"""`banner.js` and `banner.css` prepared once per process: bytes, gzipped bytes, strong ETags.

Every reader gets the same files, so nothing is computed per request; the
script's budget (3 KB gzipped) is checked by the tests against `script().gzipped`.
The stylesheet is the iframe page's (`/embed/banner.html`), whose
Content-Security-Policy allows no inline style.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "static" / "banner" / "banner.js"
STYLESHEET = SOURCE.with_name("banner.css")
BUDGET = 3 * 1024


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    gzip_etag: str


def strip(source: str) -> str:
    """Drop indentation, blank lines and whole-line `//` comments.

    Deliberately no more than that: banner.js is written so that this cannot
    change what it means (no multi-line strings whose indentation matters).
    """
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


def _prepare(body: bytes) -> Asset:
    # mtime=0: the same bytes (and ETag) from every worker and every deploy.
    gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    digest = hashlib.sha256(body).hexdigest()[:20]
    return Asset(body=body, gzipped=gzipped, etag=digest, gzip_etag=digest + "-gz")


@cache
def script() -> Asset:
    """The served banner script (read and compressed on first use)."""
    return _prepare(strip(SOURCE.read_text(encoding="utf-8")).encode())


@cache
def stylesheet() -> Asset:
    """The iframe page's stylesheet, served as written (read and compressed on first use)."""
    return _prepare(STYLESHEET.read_bytes())
