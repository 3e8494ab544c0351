"""Error texts kept in the database: `stripe_event.last_error`, `outbound_email.last_error`.

Staff read them in the inbox for weeks, so they must not carry a reader's
address or name. SQLAlchemy leaves statement parameters out of its errors
(`hide_parameters`, see `support.config`), but PostgreSQL's DETAIL line
quotes row values ("Key (email)=(reader@example.org) already exists"), an
SMTP server quotes the recipient, and Stripe may quote what it refused. So a
text keeps the error's type and message without DETAIL lines, with every
address masked and the values the caller knows (the reader's email and
name) removed in any spelling.
"""

from __future__ import annotations

import re

from support.addresses import mask_addresses
from support.privacy.redaction import scrub_text

# PostgreSQL's detail (and its hint, which can quote values too) after the message.
_DETAIL = re.compile(r"^\s*(DETAIL|HINT):", re.IGNORECASE)


def clean(text: str, *personal: str | None) -> str:
    """`text` without DETAIL lines, addresses masked, `personal` values redacted."""
    kept = "\n".join(line for line in text.splitlines() if not _DETAIL.match(line))
    return mask_addresses(scrub_text(kept, personal))


def describe(error: BaseException, *personal: str | None) -> str:
    """The error's type and message, cleaned (see `clean`)."""
    return clean(f"{type(error).__name__}: {error}", *personal)
