"""Values read off Stripe objects the same way everywhere."""

from __future__ import annotations

from datetime import UTC, datetime


def timestamp(value: int | None) -> datetime | None:
    """A Stripe unix timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(value, UTC) if value else None


def attribution_fields(meta: dict | None) -> dict:
    """source / campaign / variant from Stripe metadata, cut to their column sizes."""
    meta = meta or {}
    return {
        "source": (meta.get("source") or None) and meta["source"][:500],
        "campaign": (meta.get("campaign") or None) and meta["campaign"][:64],
        "variant": (meta.get("variant") or None) and meta["variant"][:64],
    }
