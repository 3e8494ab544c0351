"""Strict reading of outside JSON and of numbers and search text from forms."""

from __future__ import annotations

import pytest

from support.form_values import page_number, search_text, whole_number
from support.json_input import JSONInputError, is_plain_text, key_path, loads, loads_object


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xff{}", "it is not UTF-8"),
        (b'{"a": 1, "a": 2}', "a: is given twice"),
        (b'{"a": {"b": [1, {"c": 1, "c": 1}]}}', "a.b[1].c: is given twice"),
        (b'{"a": [NaN]}', "a[0]: NaN is not a JSON number"),
        (b'{"a": -Infinity}', "a: -Infinity is not a JSON number"),
        (b'{"x y": "\\ud800"}', '["x y"]: must be text without lone surrogates'),
        (b"[" * 21 + b"]" * 21, "nest too deep"),
        (b"[" * 100_000, "nest too deep"),
        (b"{", "it is not JSON"),
    ],
)
def test_what_no_client_of_ours_sends_is_refused_naming_the_place(body, message):
    with pytest.raises(JSONInputError, match=message.replace("[", r"\[").replace("(", r"\(")):
        loads(body)


def test_a_forbidden_character_is_refused_only_when_asked():
    assert loads(b'{"a": "x\\u0000"}') == {"a": "x\x00"}
    with pytest.raises(JSONInputError, match="a: must be text without lone surrogates"):
        loads(b'{"a": "x\\u0000"}', forbidden="\x00")


def test_an_object_is_required_at_the_top_when_asked():
    assert loads_object(b'{"a": [1, 2.5, null, true]}') == {"a": [1, 2.5, None, True]}
    with pytest.raises(JSONInputError, match="not a JSON object"):
        loads_object(b"[]")


def test_paths_are_printable_whatever_the_key():
    assert key_path("", "slug") == "slug"
    assert key_path("banner", 0) == "banner[0]"
    assert key_path("appeal", "en\x1b[2J") == 'appeal["en\\u001b[2J"]'
    assert key_path("", "x" * 100) == '["' + "x" * 40 + '\\u2026"]'


def test_plain_text_is_a_short_string_without_control_characters():
    assert is_plain_text("monthly", 64)
    assert is_plain_text("a\nb", 64, allowed="\n")
    for value in (["monthly"], None, 1, "a\x00", "\ud800", "x" * 65, "a\nb"):
        assert not is_plain_text(value, 64)


def test_numbers_are_ascii_digits_within_bounds():
    assert whole_number(" 12 ", 100) == 12
    for value in ("²", "١٢", "٣" * 5000, "9" * 5000, "-1", "1.5", "", None, ["1"], "101"):
        assert whole_number(value, 100) is None
    assert page_number("3") == 3 and page_number("0") == 1 and page_number("²") == 1
    assert page_number("999999") == 100_000


def test_search_text_loses_control_characters():
    assert search_text(" a\x00b\x1f ", 10) == "ab"
    assert search_text(["a"], 10) == ""
    assert search_text("x" * 300, 200) == "x" * 200
