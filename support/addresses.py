"""Email addresses in one normal form, so one reader is one supporter or staff account."""

from __future__ import annotations


def normalise_email(email: str | None) -> str:
    """The address trimmed and lowercase; "" for none."""
    return (email or "").strip().lower()
