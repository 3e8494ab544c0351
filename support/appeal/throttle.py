"""How many Checkout Sessions one address may start (`CHECKOUT_LIMIT_PER_IP`).

Every new choice sent to `/<lang>/checkout` costs a request to Stripe, whose
budget (about 25 requests a second in test mode, 100 live) the whole account
shares with the webhook workers and the staff area; a bot starting sessions in
a loop would also feed card testing and fill the funnel with noise.

Only valid choices are counted (the view validates first), and not the appeal
page itself. Sending a choice again from the same rendered form (a double
click, or pressing the button after a 502) gets the same session back through
the idempotency key, so those first repeats are free.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

from flask import current_app
from flask_limiter import RateLimitExceeded

from support import address_keys
from support.appeal.checkout import Choice, idempotency_key
from support.extensions import limiter

# A double or triple click, or one more press after Stripe did not answer.
FREE_REPEATS = 2
# How long a counted choice is remembered: long enough for a reader's retries,
# short enough that a flood of refused requests does not fill the store.
REPEAT_MEMORY = 600


def checkout_limit() -> str:
    """The checkouts one address may start, e.g. `5 per minute;30 per hour`."""
    return current_app.config["CHECKOUT_LIMIT_PER_IP"]


def address_key() -> str:
    """The throttling key: the reader's address, keyed-hashed."""
    return address_keys.address_key("checkout")


def _repeat_key(choice: Choice) -> str:
    """Where the times this address sent `choice` are counted (digested like the address)."""
    digest = hashlib.blake2b(
        f"{address_key()}\x1f{idempotency_key(choice)}".encode(), digest_size=12
    ).hexdigest()
    return f"checkout-repeat/{digest}"


@contextlib.contextmanager
def new_sessions(choice: Choice) -> Iterator[None]:
    """Count `choice` against the address's limits, then run the block.

    Raises `RateLimitExceeded` instead when the address is over them, before
    the block runs (so before Stripe is asked).
    """
    key = _repeat_key(choice)
    sent: list[int] = []

    def cost() -> int:
        # Flask-Limiter asks once per configured rate: count the submission once.
        if not sent:
            # Counted atomically: both requests of a double click arrive together.
            sent.append(limiter.storage.incr(key, REPEAT_MEMORY))
        return 0 if 1 < sent[0] <= 1 + FREE_REPEATS else 1

    try:
        # Flask-Limiter checks and counts on entering the block.
        with limiter.limit(checkout_limit, key_func=address_key, cost=cost):
            yield
    except RateLimitExceeded:
        if sent == [1]:
            # Refused, so no session to hand back: sending it again must not be free.
            limiter.storage.clear(key)
        raise
