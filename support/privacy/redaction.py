"""Taking a reader's name and email out of stored text and JSON, however they are spelled.

Stored text can hold a value lowercased or as the reader typed it, JSON-escaped
(`\\u0644`), as HTML entities, percent-encoded, or in another Unicode normal
form. `spellings` lists those forms and `pattern` matches any of them,
ignoring case, as a whole word: removing "Ali" must not turn "Alice" into
"[redacted]ce".

`redact_json` also replaces the personal fields of Stripe objects wherever
they sit (`customer_details`, `billing_details`, addresses, phones,
`previous_attributes` entries, `name` and `email` ...), so an address or a
phone number goes without knowing its value.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"

# Stripe fields that hold a reader's contact details, on any object.
PERSONAL_FIELDS = frozenset(
    {
        "address",
        "billing_details",
        "collected_information",
        "custom_fields",
        "customer_address",
        "customer_details",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_shipping",
        "customer_tax_ids",
        "email",
        "name",
        "phone",
        "receipt_email",
        "shipping",
        "shipping_details",
        "tax_ids",
    }
)
# Objects whose `name` is the newsroom's wording, not a person.
CATALOG_OBJECTS = frozenset({"product", "price", "plan"})
# Shorter values would match inside too much unrelated text.
MIN_LENGTH = 2
# A match may not continue a word: no letter right before or after it.
_BEFORE = r"(?<![^\W\d_])"
_AFTER = r"(?![^\W\d_])"


def is_personal(key: str, value: object, owner: dict) -> bool:
    """Whether `owner[key]` is a person's detail worth replacing (not an empty one)."""
    if key not in PERSONAL_FIELDS or value in (None, "", {}, []):
        return False
    return not (key == "name" and owner.get("object") in CATALOG_OBJECTS)


def _entities(text: str, every: bool, hexadecimal: bool) -> str:
    """`text` with non-ASCII (or `every`) character as an HTML character reference."""
    return "".join(
        (f"&#x{ord(c):x};" if hexadecimal else f"&#{ord(c)};") if every or ord(c) > 127 else c
        for c in text
    )


def spellings(value: str) -> set[str]:
    """The forms `value` may be stored in (match them ignoring case)."""
    forms: set[str] = set()
    for text in {value, unicodedata.normalize("NFC", value), unicodedata.normalize("NFD", value)}:
        forms.update(
            (
                text,
                json.dumps(text)[1:-1],
                html.escape(text),
                _entities(text, every=False, hexadecimal=False),
                _entities(text, every=False, hexadecimal=True),
                _entities(text, every=True, hexadecimal=False),
                _entities(text, every=True, hexadecimal=True),
                quote(text, safe=""),
                quote(text, safe="@"),
                quote_plus(text, safe=""),
                quote_plus(text, safe="@"),
            )
        )
    return forms


def needles(values: Iterable[str | None]) -> list[str]:
    """The values worth looking for: trimmed, long enough, without duplicates."""
    found = {value.strip() for value in values if value and value.strip()}
    return sorted(value for value in found if len(value) >= MIN_LENGTH)


def pattern(values: Iterable[str | None]) -> re.Pattern[str] | None:
    """A pattern matching any of `values` in any spelling, ignoring case; None for none."""
    forms = {form for value in needles(values) for form in spellings(value)}
    if not forms:
        return None
    # Longest first, so a whole escaped form wins over a shorter one inside it.
    alternatives = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    return re.compile(f"{_BEFORE}(?:{alternatives}){_AFTER}", re.IGNORECASE)


def scrub_text(text: str, values: Iterable[str | None]) -> str:
    """`text` with every spelling of `values` replaced by REDACTED."""
    found = pattern(values)
    return found.sub(REDACTED, text) if found is not None else text


def redact_json(value: object, found: re.Pattern[str] | None, structural: bool = True) -> object:
    """A JSON value with `found` replaced in every string (and key), and, when
    `structural`, every personal field replaced by REDACTED."""
    if isinstance(value, str):
        return found.sub(REDACTED, value) if found is not None else value
    if isinstance(value, list):
        return [redact_json(item, found, structural) for item in value]
    if not isinstance(value, dict):
        return value
    redacted = {}
    for key, item in value.items():
        name = found.sub(REDACTED, key) if found is not None else key
        if structural and is_personal(key, item, value):
            redacted[name] = REDACTED
        else:
            redacted[name] = redact_json(item, found, structural)
    return redacted


def dump(value: object) -> str:
    """JSON as the inbox stores it: compact, non-ASCII kept as it is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def redact_payload(payload: str, values: Iterable[str | None], structural: bool = True) -> str:
    """A stored JSON payload without `values` (any spelling) and, when `structural`,
    without personal fields; text that is not JSON has `values` replaced."""
    found = pattern(values)
    try:
        parsed = json.loads(payload)
    except ValueError:
        return found.sub(REDACTED, payload) if found is not None else payload
    return dump(redact_json(parsed, found, structural))
