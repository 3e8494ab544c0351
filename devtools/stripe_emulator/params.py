"""Parameter validation against small per-endpoint schemas.

A schema is a dict mapping parameter names to a spec:

* ``STR``, ``INT``, ``BOOL``, ``META`` (metadata hash), ``RANGE`` (int or gt/gte/lt/lte hash)
* a tuple of strings: an enumeration
* a dict: a nested hash validated recursively
* a one-element list ``[spec]``: an array of ``spec``

Validation returns a cleaned copy (ints and bools converted) or raises a 400.
"""

from .catalog import one_of
from .errors import invalid, missing_param, unknown_param

STR = "str"
INT = "int"
BOOL = "bool"
META = "meta"
RANGE = "range"
EXPAND = {"expand": [STR]}
LIST = {"limit": INT, "starting_after": STR, "ending_before": STR, "created": RANGE, **EXPAND}


def _name(prefix: str, key) -> str:
    return f"{prefix}[{key}]" if prefix else str(key)


def _int(value, param):
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    raise invalid(f"Invalid integer: {value}", param, "parameter_invalid_integer")


def _bool(value, param):
    if value in ("true", "false"):
        return value == "true"
    raise invalid(f"Invalid boolean: {value}", param, "parameter_invalid_boolean")


def _meta(value, param):
    if value == "":
        return ""
    if not isinstance(value, dict):
        raise invalid("Invalid hash", param, "parameter_invalid_hash")
    if len(value) > 50:
        raise invalid("Metadata can have at most 50 keys.", param)
    for key, item in value.items():
        if not isinstance(item, str):
            raise invalid("Invalid string: expected a metadata value", _name(param, key))
        if len(key) > 40:
            raise invalid("Metadata keys can be at most 40 characters.", _name(param, key))
        if len(item) > 500:
            raise invalid("Metadata values can be at most 500 characters.", _name(param, key))
    return dict(value)


def _range(value, param):
    if isinstance(value, str):
        return {"eq": _int(value, param)}
    if not isinstance(value, dict):
        raise invalid("Invalid hash", param, "parameter_invalid_hash")
    return check(value, {"gt": INT, "gte": INT, "lt": INT, "lte": INT}, param)


def _value(value, spec, param):
    if isinstance(spec, tuple):
        if value not in spec:
            raise invalid(f"Invalid {param}: must be one of {one_of(spec)}", param)
        return value
    if isinstance(spec, list):
        if isinstance(value, dict) and not value:
            value = []
        if not isinstance(value, list):
            raise invalid("Invalid array", param, "parameter_invalid_array")
        return [_value(item, spec[0], f"{param}[{i}]") for i, item in enumerate(value)]
    if isinstance(spec, dict):
        if value == "":
            return ""  # Stripe unsets a hash when it is sent as an empty string.
        if not isinstance(value, dict):
            raise invalid("Invalid hash", param, "parameter_invalid_hash")
        return check(value, spec, param)
    if spec == STR:
        if not isinstance(value, str):
            raise invalid("Invalid string: expected a string", param, "parameter_invalid_string")
        return value
    if spec == INT:
        return _int(value, param)
    if spec == BOOL:
        return _bool(value, param)
    if spec == META:
        return _meta(value, param)
    if spec == RANGE:
        return _range(value, param)
    raise AssertionError(f"bad spec {spec!r}")


def check(params: dict, schema: dict, prefix: str = "") -> dict:
    """Validate ``params`` against ``schema``; unknown keys raise parameter_unknown."""
    cleaned = {}
    for key, value in params.items():
        param = _name(prefix, key)
        if key not in schema:
            raise unknown_param(param)
        cleaned[key] = _value(value, schema[key], param)
    return cleaned


def require(params: dict, *names: str, prefix: str = "") -> None:
    """Raise parameter_missing for the first absent (or empty) name."""
    for name in names:
        if params.get(name) in (None, ""):
            raise missing_param(_name(prefix, name))
