"""Rate-limit keys for a reader's address, keyed-hashed.

The limiter's store (Redis in production) never holds a reader's IP: only a
digest keyed with `SECRET_KEY`, the same in every process so they share counts.
The address is the one ProxyFix took from the trusted proxies
(`SUPPORT_PROXY_COUNT`), not the proxy's own.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from flask_limiter.util import get_remote_address


def hashed_address(prefix: str) -> str:
    """`prefix:` and a keyed digest of the client address."""
    secret = current_app.config["SECRET_KEY"].encode()[:64]
    address = (get_remote_address() or "").encode()
    return f"{prefix}:" + hashlib.blake2b(address, key=secret, digest_size=12).hexdigest()
