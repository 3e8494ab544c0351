"""Hypothesis strategies for what outside input may hold: the wrong JSON type, text that
is far too long or full of control characters, bytes that are not UTF-8, keys and form
fields given twice. The property tests feed them to every endpoint that reads input.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Modest example counts: every property runs on both databases, through real requests.
# FUZZ_EXAMPLES=500 explores further (minutes per module).
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CONTROL = [chr(c) for c in [*range(32), 127]] + ["\u0085", "\u200b", "\u202e", "\u2028", "\ufeff"]

# Strings a form or a JSON document may carry: ordinary text, control characters,
# values that look like other types, and texts far longer than any field takes.
# Values that have broken parsers before: digits `isdigit()` accepts but `int()` does not
# (or not that many), NUL (PostgreSQL refuses it), and look-alikes of other types.
NASTY = [
    "\x00",
    "a\x00b",
    "²",
    "٣" * 5000,
    "9" * 5000,
    "1" * 30,
    "-1",
    "0",
    "1.5",
    "\u202e",
    "'; --",
    "%",
]

odd_text = st.one_of(
    st.sampled_from(NASTY),
    st.sampled_from(NASTY).map(lambda text: f"reader{text}@example.org"),
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from(CONTROL), min_size=1, max_size=8),
    st.sampled_from(
        ["", " ", "[]", "{}", "null", "true", "0", "-1", "1e309", "NaN", "١٢", "x@y", "%00"]
    ),
    st.builds(
        lambda char, size: char * size, st.sampled_from("aé٣\x00<"), st.integers(200, 20_000)
    ),
)

# Only JSON can carry a lone surrogate (`"\ud800"`); no UTF-8 form can.
json_text = st.one_of(odd_text, st.builds(chr, st.integers(0xD800, 0xDFFF)))

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**30, -(10**30), 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    json_text,
)

# Any JSON value: scalars, and lists and objects of them, a few levels deep.
odd_json = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=8,
)


def dumps(value) -> bytes:
    """`value` as a JSON body (NaN and Infinity as Python writes them; lone surrogates escaped)."""
    return json.dumps(value).encode()


def with_value(document: dict, path: tuple, value) -> dict:
    """A deep copy of `document` with `value` at `path` (keys and list indexes)."""
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def leaf_paths(value, prefix: tuple = ()) -> list[tuple]:
    """Every path into `value`: each object key and list index, at every depth."""
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            paths += leaf_paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            paths += leaf_paths(inner, (*prefix, index))
    return paths


def duplicated_key(document: dict, key: str, value) -> bytes:
    """`document` as JSON with `key` given a second time, holding `value`."""
    body = json.dumps(document)
    return (body[:-1] + f", {json.dumps(key)}: {json.dumps(value)}}}").encode()


# Bodies that are not a JSON document at all, or not UTF-8.
broken_json = st.sampled_from(
    [
        b"",
        b"{",
        b"\xff\xfe{}",
        b'{"type": "\xff"}',
        b"[" * 5000,
        b"null",
        b"\x00",
        "{}".encode("utf-16"),
    ]
)


def form_body(fields: list[tuple[str, str | bytes]]) -> bytes:
    """An `application/x-www-form-urlencoded` body; bytes values are sent as they are
    (percent-encoded), so a field may hold bytes that are not UTF-8."""
    return "&".join(f"{quote(name)}={quote(value)}" for name, value in fields).encode()


# A form value: odd text, or bytes that are not UTF-8.
odd_form_value = st.one_of(
    odd_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"\xff", b"\xc3\x28", b"a\xed\xa0\x80b", b"\xf0\x28\x8c\x28"]),
)


@st.composite
def odd_form(draw, fields: dict[str, str], names: list[str] | None = None) -> bytes:
    """`fields` with one to three of `names` made odd: an odd value, the field given
    twice (odd value first or second), or the field left out."""
    chosen = draw(st.lists(st.sampled_from(names or list(fields)), min_size=1, max_size=3))
    pairs: list[tuple[str, bytes]] = [(k, v.encode()) for k, v in fields.items()]
    for name in chosen:
        how = draw(st.sampled_from(["value", "twice", "twice_first", "missing"]))
        odd = draw(odd_form_value)
        kept = [(k, v) for k, v in pairs if k != name]
        original = fields.get(name, "").encode()
        if how == "value":
            pairs = [*kept, (name, odd)]
        elif how == "twice":
            pairs = [*kept, (name, original), (name, odd)]
        elif how == "twice_first":
            pairs = [*kept, (name, odd), (name, original)]
        else:
            pairs = kept
    return form_body(pairs)


FORM = "application/x-www-form-urlencoded"


# Throttles out of the way, so every example reaches the form's own checks.
LIMITS = {
    "STAFF_LOGIN_LIMIT_ACCOUNT": "100000 per minute",
    "STAFF_LOGIN_LIMIT_IP": "100000 per minute",
    "STAFF_RESET_LIMIT_PER_IP": "100000 per minute",
    "STAFF_RESET_LIMIT_PER_EMAIL": "100000 per minute",
}
HIDDEN = re.compile(
    r'<input[^>]*name="(csrf_token|token|currency|base_version)"[^>]*value="([^"]*)"'
)


def hidden_fields(client, path: str) -> dict[str, str]:
    """The hidden fields (CSRF, one-time token, ...) of the form at `path`."""
    return dict(HIDDEN.findall(client.get(path).get_data(as_text=True)))


def assert_page(response, statuses) -> None:
    """One of `statuses`, and a page (or a redirect), never an error of ours."""
    assert response.status_code in statuses, (response.status_code, response.get_data()[:300])
    if response.status_code < 300 or response.status_code >= 400:
        assert response.mimetype == "text/html"
