"""Reading JSON that comes from outside: strictly, so a wrong type is a clear refusal.

Python's `json` takes a body as it comes: the last of two equal keys wins silently,
`NaN` and `Infinity` become floats, a lone surrogate (`"\\ud800"`) becomes a string
no database can store, and a few thousand `[` exhaust the recursion limit. Callers
then meet a list where they expected text and fail with a TypeError, a 500. Here a
body is read once and refused with a reason naming the place (`JSONInputError`) when
it is not what any client of ours sends; callers check each value's type before use
(`is_plain_text`, `choice`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable

# Deeper than any document we take; well inside Python's recursion limit.
MAX_DEPTH = 20
TOO_DEEP = "its lists and objects nest too deep"
PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")


class JSONInputError(ValueError):
    """The input is not JSON we take; the message says why and where (in English,
    for logs and command lines)."""


class _Repeated(dict):
    """An object that named `key` more than once (found and reported with its path)."""

    def __init__(self, pairs: list[tuple[str, object]], key: str):
        super().__init__(pairs)
        self.key = key


class _Constant:
    """`NaN`, `Infinity` or `-Infinity` where a number stood (not JSON; reported)."""

    def __init__(self, name: str):
        self.name = name


def _pairs(pairs: list[tuple[str, object]]) -> dict:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return _Repeated(pairs, key)
        seen.add(key)
    return dict(pairs)


def key_path(prefix: str, key) -> str:
    """The path of `key` under `prefix`: `a.b`, `a[0]`, or `a["odd key"]` (ASCII, escaped)
    for a key that is not a plain name, so a path is always safe to print."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    if PLAIN_KEY.fullmatch(key):
        return f"{prefix}.{key}" if prefix else key
    return f"{prefix}[{json.dumps(key[:40] + ('…' if len(key) > 40 else ''))}]"


def _odd(text: str, forbidden: str) -> bool:
    return any("\ud800" <= char <= "\udfff" or char in forbidden for char in text)


def problem(value, max_depth: int = MAX_DEPTH, forbidden: str = "") -> str | None:
    """The first thing wrong in a parsed document, with its path, or None.

    Walks without recursion: lists and objects deeper than `max_depth`, a key given
    twice, NaN or Infinity, and a key or string holding a lone surrogate or a
    character of `forbidden`.
    """
    odd_text = "must be text without lone surrogates" + (" or NUL" if "\x00" in forbidden else "")
    stack: list[tuple[str, object, int]] = [("", value, 0)]
    while stack:
        path, item, level = stack.pop()
        here = path or "the document"
        if isinstance(item, dict | list) and level >= max_depth:
            return TOO_DEEP
        if isinstance(item, _Repeated):
            return f"{key_path(path, item.key)}: is given twice"
        if isinstance(item, _Constant):
            return f"{here}: {item.name} is not a JSON number"
        if isinstance(item, str) and _odd(item, forbidden):
            return f"{here}: {odd_text}"
        if isinstance(item, dict):
            for key, inner in item.items():
                if _odd(key, forbidden):
                    return f"{here}: a key {odd_text}"
                stack.append((key_path(path, key), inner, level + 1))
        elif isinstance(item, list):
            stack += [(key_path(path, i), inner, level + 1) for i, inner in enumerate(item)]
    return None


def loads(data: bytes | str, max_depth: int = MAX_DEPTH, forbidden: str = "", parse_float=float):
    """Parse a JSON document strictly (UTF-8, then see `problem`); `parse_float=Decimal`
    keeps numbers as written."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise JSONInputError("it is not UTF-8") from None
    try:
        value = json.loads(
            data, object_pairs_hook=_pairs, parse_constant=_Constant, parse_float=parse_float
        )
    except RecursionError:
        raise JSONInputError(TOO_DEEP) from None
    except ValueError as error:
        raise JSONInputError(f"it is not JSON ({error})") from None
    found = problem(value, max_depth, forbidden)
    if found:
        raise JSONInputError(found)
    return value


def loads_object(data: bytes | str, max_depth: int = MAX_DEPTH, forbidden: str = "") -> dict:
    """`loads`, refusing anything but an object at the top."""
    value = loads(data, max_depth, forbidden)
    if not isinstance(value, dict):
        raise JSONInputError("it is not a JSON object")
    return value


def is_plain_text(value, max_length: int, allowed: Iterable[str] = ()) -> bool:
    """Whether `value` is a string of at most `max_length` characters without control
    characters (but `allowed` ones) or lone surrogates, so it can be stored and shown."""
    if not isinstance(value, str) or len(value) > max_length:
        return False
    return not any(
        unicodedata.category(char) in ("Cc", "Cs") and char not in allowed for char in value
    )


def choice(value, choices: Iterable[str]) -> str | None:
    """`value` when it is one of `choices` (all strings), else None; any type may be given."""
    return value if isinstance(value, str) and value in choices else None
