"""Stored sources cleaned in place: an erased supporter's, and rows written before
sources were reduced (`flask supporters clean-sources`).

A source is copied into checkout attempts, subscriptions, payments and the
metadata of stored webhook events. Before `support.attribution.reduce_source`
existed it kept the whole query string, so a newsletter link's `?email=...`
sits in all of them. Each copy is set to the reduced form (the article and its
campaign parameters), not blanked, so the banner's top source articles keep
counting the gifts; a source that cannot be reduced becomes NULL (or leaves
the event's metadata).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlalchemy as sa

from support.attribution import reduce_source
from support.extensions import db
from support.models import CheckoutAttempt, Payment, StripeEvent, Subscription, Supporter
from support.privacy import redaction
from support.rewrites import rewrite_column

TABLES = (CheckoutAttempt, Subscription, Payment)


def clean_payload(payload: str) -> str | None:
    """A stored payload with every metadata `source` reduced (or removed when it cannot
    be); None when there is nothing to change or the payload is not JSON."""
    try:
        parsed = json.loads(payload)
    except ValueError:
        return None
    changed = False

    def walk(value: object) -> None:
        nonlocal changed
        if isinstance(value, list):
            for item in value:
                walk(item)
        if not isinstance(value, dict):
            return
        metadata = value.get("metadata")
        if isinstance(metadata, dict) and "source" in metadata:
            source = metadata["source"]
            reduced = reduce_source(source) if isinstance(source, str) else None
            if reduced != source:
                changed = True
                if reduced is None:
                    del metadata["source"]
                else:
                    metadata["source"] = reduced
        for item in value.values():
            walk(item)

    walk(parsed)
    return redaction.dump(parsed) if changed else None


def _mentions(column: sa.ColumnElement[str], values: list[str]) -> sa.ColumnElement[bool]:
    """`column` holds any spelling of `values`, ignoring case (a full scan: erasure is rare)."""
    forms = sorted({form for value in values for form in redaction.spellings(value)})
    return sa.or_(sa.false(), *(column.icontains(form, autoescape=True) for form in forms))


def erase_sources(supporter: Supporter, values: Iterable[str | None]) -> int:
    """Reduce the sources of the supporter's checkout attempts, subscriptions and
    payments, and of any row whose source holds one of `values` (the reader's
    addresses and names) in any spelling; a reduced source that still holds one
    becomes NULL. How many rows changed; not committed."""
    needles = redaction.needles(values)
    found = redaction.pattern(needles)
    changed = 0
    for table in TABLES:
        query = sa.select(table).where(
            table.source.is_not(None),
            sa.or_(table.supporter_id == supporter.id, _mentions(table.source, needles)),
        )
        for row in db.session.scalars(query):
            reduced = reduce_source(row.source)
            if reduced is not None and found is not None and found.search(reduced):
                reduced = None
            if reduced != row.source:
                row.source = reduced
                changed += 1
    return changed


def _clean_table(table, batch: int) -> int:
    """Reduce every stored source of `table`, a batch per transaction; how many changed."""
    return rewrite_column(table.source, reduce_source, batch, where=table.source.is_not(None))


def _clean_events(batch: int) -> int:
    """Reduce the metadata sources of every stored event, a batch per transaction."""
    return rewrite_column(
        StripeEvent.payload,
        lambda payload: clean_payload(payload) or payload,
        batch,
        where=StripeEvent.payload.contains('"source"'),
    )


def clean_stored(batch: int = 1000) -> dict[str, int]:
    """Reduce every stored source (see the module); how many rows changed, by table.

    Safe beside running workers (short transactions, compare and set) and to run
    again: a reduced source reduces to itself.
    """
    counts = {table.__tablename__: _clean_table(table, batch) for table in TABLES}
    counts[StripeEvent.__tablename__] = _clean_events(batch)
    return counts
