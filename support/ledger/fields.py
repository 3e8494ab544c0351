"""Values read off Stripe objects the same way everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

from support.attribution import reduce_source


def timestamp(value: int | None) -> datetime | None:
    """A Stripe unix timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(value, UTC) if value else None


def attribution_fields(meta: dict | None) -> dict:
    """source / campaign / variant from Stripe metadata, cut to their column sizes.

    The source is cleaned again: metadata set before sources were reduced, or
    edited at Stripe, may still carry a reader's address in its query string.
    """
    meta = meta or {}
    source = meta.get("source")
    return {
        "source": reduce_source(source) if isinstance(source, str) else None,
        "campaign": (meta.get("campaign") or None) and meta["campaign"][:64],
        "variant": (meta.get("variant") or None) and meta["variant"][:64],
    }
