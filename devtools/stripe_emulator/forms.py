"""Decoding of Stripe-style form bodies and query strings.

stripe-python encodes nested parameters with brackets, e.g.
``line_items[0][price_data][recurring][interval]=month`` or ``expand[0]=customer``.
These helpers turn such pairs back into nested dicts and lists.
"""

import re
from urllib.parse import parse_qsl

_TOKEN = re.compile(r"\[([^\]]*)\]")


def _split_key(key: str) -> list[str]:
    """Split ``a[b][0]`` into ``["a", "b", "0"]``; ``a[]`` yields an empty last token."""
    head, _, rest = key.partition("[")
    if not rest:
        return [key]
    return [head, *_TOKEN.findall("[" + rest)]


def _listify(node):
    """Turn dicts whose keys are all integers into lists ordered by index."""
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


def decode_pairs(pairs: list[tuple[str, str]]) -> dict:
    """Build a nested structure from (key, value) pairs with bracketed keys."""
    root: dict = {}
    for key, value in pairs:
        tokens = _split_key(key)
        node = root
        for i, token in enumerate(tokens):
            if token == "":
                # "a[]" appends: give it the next free integer index.
                token = str(len(node))
            last = i == len(tokens) - 1
            if last:
                node[token] = value
            else:
                child = node.get(token)
                if not isinstance(child, dict):
                    child = {}
                    node[token] = child
                node = child
    return _listify(root)


def decode(text: str) -> dict:
    """Decode an ``application/x-www-form-urlencoded`` string into nested params."""
    return decode_pairs(parse_qsl(text, keep_blank_values=True))
