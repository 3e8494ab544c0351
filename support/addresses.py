"""Email addresses: one normal form (one reader, one lookup) and masked for logs."""

from __future__ import annotations

import re

ADDRESS_IN_TEXT = re.compile(r"[\w.!#$%&*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def normalise_email(email: str | None) -> str:
    """The address trimmed and lowercase; "" for none."""
    return (email or "").strip().lower()


def mask_address(address: str | None) -> str:
    """ "reader@example.com" → "r***@example.com": enough to tell mails apart in a log."""
    local, _, domain = (address or "").rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


def mask_addresses(text: str) -> str:
    """`text` with every address in it masked (`mask_address`)."""
    return ADDRESS_IN_TEXT.sub(lambda found: mask_address(found.group()), text)
