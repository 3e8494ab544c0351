"""`banner.js` prepared once per process: bytes, gzipped bytes, strong ETags.

Every reader gets the same file, so nothing is computed per request; the
budget (3 KB gzipped) is checked by the tests against `script().gzipped`.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "static" / "banner" / "banner.js"
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


@cache
def script() -> Asset:
    """The served banner script (read and compressed on first use)."""
    body = strip(SOURCE.read_text(encoding="utf-8")).encode()
    # mtime=0: the same bytes (and ETag) from every worker and every deploy.
    gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    digest = hashlib.sha256(body).hexdigest()[:20]
    return Asset(body=body, gzipped=gzipped, etag=digest, gzip_etag=digest + "-gz")
