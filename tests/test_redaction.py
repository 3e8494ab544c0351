"""Taking a name and an email out of text and JSON, in every spelling."""

from __future__ import annotations

import html
import json
from urllib.parse import quote, quote_plus

import pytest

from support.privacy.redaction import (
    REDACTED,
    pattern,
    redact_json,
    redact_payload,
    scrub_text,
    spellings,
)

NAME = "ليلى حداد"
EMAIL = "Layla.Haddad@Example.ORG"


def _entities(text: str) -> str:
    return text.encode("ascii", "xmlcharrefreplace").decode()


@pytest.mark.parametrize(
    "stored",
    [
        NAME,
        json.dumps(NAME)[1:-1],  # \u0644\u064a...
        json.dumps(NAME)[1:-1].upper().replace("\\U", "\\u"),  # \u064A: hex in capitals
        _entities(NAME),  # &#1604;&#1610;...
        "".join(f"&#x{ord(c):X};" if ord(c) > 127 else c for c in NAME),
        quote(NAME),
        quote(NAME).lower(),
        quote_plus(NAME),
        EMAIL,
        EMAIL.lower(),
        EMAIL.upper(),
        quote(EMAIL, safe=""),
        quote_plus(EMAIL.lower()),
        "".join(f"&#{ord(c)};" for c in EMAIL),
        html.escape(EMAIL),
    ],
)
def test_every_spelling_is_found_in_text(stored):
    text = f"before {stored} after"
    assert scrub_text(text, [NAME, EMAIL]) == f"before {REDACTED} after"


def test_accented_names_match_in_either_unicode_form():
    composed = "Zoë Émile"
    decomposed = "Zoe\u0308 E\u0301mile"
    assert scrub_text(f"to {decomposed}.", [composed]) == f"to {REDACTED}."
    assert scrub_text(f"to {composed.upper()}.", [decomposed]) == f"to {REDACTED}."
    assert scrub_text(json.dumps(decomposed), [composed]) == f'"{REDACTED}"'
    assert json.dumps(composed)[1:-1] in spellings(composed)  # Zo\u00eb \u00c9mile


def test_a_name_is_matched_as_a_whole_word_only():
    assert (
        scrub_text("Alice and Ali, and ali.", ["Ali"]) == f"Alice and {REDACTED}, and {REDACTED}."
    )
    assert scrub_text("Ali@example.org", ["Ali"]) == f"{REDACTED}@example.org"
    assert pattern(["", "  ", "A", None]) is None  # nothing worth looking for
    assert scrub_text("A is for Ali", ["A"]) == "A is for Ali"


def test_structural_redaction_removes_personal_fields_whatever_they_hold():
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 500,
        "billing_details": {"address": {"line1": "1 Rue"}, "phone": "+961 1 234"},
        "receipt_email": "other@example.org",
        "shipping": None,
        "description": f"Gift from {NAME}",
        "metadata": {"note": EMAIL.lower()},
    }
    product = {"id": "prod_1", "object": "product", "name": "Support journalism"}
    found = redact_json({"charge": charge, "product": product}, pattern([NAME, EMAIL]))
    assert found["charge"] == {
        "id": "ch_1",
        "object": "charge",
        "amount": 500,
        "billing_details": REDACTED,
        "receipt_email": REDACTED,
        "shipping": None,  # nothing there, nothing to say
        "description": f"Gift from {REDACTED}",
        "metadata": {"note": REDACTED},
    }
    assert found["product"]["name"] == "Support journalism"  # the newsroom's words stay


def test_previous_attributes_lose_old_addresses():
    customer = {"id": "cus_1", "object": "customer", "email": "new@x.org"}
    previous = {"email": "old@x.org", "phone": "+1 555"}
    event = {"data": {"object": customer, "previous_attributes": previous}}
    text = redact_payload(json.dumps(event), [])
    assert "old@x.org" not in text and "new@x.org" not in text and "+1 555" not in text
    assert json.loads(text)["data"]["previous_attributes"] == {"email": REDACTED, "phone": REDACTED}


def test_a_payload_that_is_not_json_is_still_scrubbed():
    assert redact_payload(f"oops {EMAIL.lower()} {NAME}", [EMAIL, NAME]) == (
        f"oops {REDACTED} {REDACTED}"
    )


def test_only_the_name_where_the_event_is_someone_else_s():
    payload = json.dumps({"data": {"object": {"name": NAME, "email": "else@x.org"}}})
    kept = json.loads(redact_payload(payload, [NAME], structural=False))
    assert kept == {"data": {"object": {"name": REDACTED, "email": "else@x.org"}}}
