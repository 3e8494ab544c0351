"""Rate-limit keys: the one keyed function every limiter uses.

No limiter storage (Redis in production, each process's memory otherwise)
ever holds a reader's or a staff member's address or email: a key is `kind:`
and an HMAC-SHA256 of the value under a key derived from `SECRET_KEY`. The
derived key is the same in every process, so they share counts, and it is
used for nothing else, so a digest here says nothing anywhere else.

An address counts as the network a person controls: an IPv4 address whole,
an IPv6 address by its /64 (one subscriber usually gets a whole /64, and
counting single IPv6 addresses would give them unlimited fresh counters).
The address is the one ProxyFix took from the trusted proxies
(`SUPPORT_PROXY_COUNT`), not the proxy's own.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from functools import lru_cache

from flask import current_app
from flask_limiter.util import get_remote_address

from support.addresses import normalise_email

# What the derived key is for; changing it starts every count afresh.
PURPOSE = b"reader-support rate-limit keys v1"
DIGEST_CHARS = 32
EMAIL_LENGTH = 320


@lru_cache(maxsize=4)
def _derived_key(secret: str) -> bytes:
    """The limiter's own key, derived from SECRET_KEY (so it never leaks the secret)."""
    return hmac.new(secret.encode(), PURPOSE, hashlib.sha256).digest()


def limiter_key(kind: str, value: str) -> str:
    """`kind:` and the keyed digest of `value` within that kind: the only shape of key."""
    secret = _derived_key(current_app.config["SECRET_KEY"])
    digest = hmac.new(secret, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:DIGEST_CHARS]}"


def network(address: str) -> str:
    """What one address counts as: IPv4 whole, IPv6 its /64 (IPv4-mapped IPv6 as IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address  # not an address (a test client, a broken proxy header): as given
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def address_key(kind: str) -> str:
    """The limiter key for the client's address (its /64 for IPv6)."""
    return limiter_key(kind, network(get_remote_address() or ""))


def account_address_key(kind: str, account: str) -> str:
    """The limiter key for one account from the client's address: failures counted so
    block only the address they come from, never the account's owner elsewhere."""
    return limiter_key(kind, f"{account}\x1f{network(get_remote_address() or '')}")


def email_key(kind: str, email: str | None) -> str:
    """The limiter key for an email address, in its normal form."""
    return limiter_key(kind, normalise_email(email)[:EMAIL_LENGTH])


def default_key() -> str:
    """The key of a limit that names none: the client's address."""
    return address_key("address")
