"""Numbers and search text from query strings and forms, read without surprises.

`str.isdigit()` is true for "²" and for "٣" repeated 5,000 times, on which `int()`
fails; PostgreSQL refuses a NUL character anywhere in a query. Filters and forms
read such values here, so an odd one is dropped (or shown back as typed) rather
than a 500.
"""

from __future__ import annotations

import unicodedata


def whole_number(value, maximum: int) -> int | None:
    """`value` as a whole number from 0 to `maximum` when it is written in ASCII digits
    (surrounding spaces allowed), else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(maximum)):
        return None
    number = int(value)
    return number if number <= maximum else None


def page_number(value, last: int = 100_000) -> int:
    """A page from `?page=`: 1 unless it is a whole number from 1, at most `last`."""
    number = whole_number(value, 10 * last)
    return min(number, last) if number else 1


def search_text(value, limit: int) -> str:
    """Typed search text without control characters (no stored value holds one),
    stripped and cut to `limit` characters."""
    text = value if isinstance(value, str) else ""
    return "".join(c for c in text if unicodedata.category(c) != "Cc").strip()[:limit]
