"""List pagination, ``created`` filters and ``expand[]`` support."""

import copy

from .errors import invalid
from .store import Store


def created_matches(created: int, cond) -> bool:
    """Whether a ``created`` timestamp satisfies a RANGE filter (see params.RANGE)."""
    if not cond:
        return True
    checks = {
        "eq": lambda v: created == v,
        "gt": lambda v: created > v,
        "gte": lambda v: created >= v,
        "lt": lambda v: created < v,
        "lte": lambda v: created <= v,
    }
    return all(checks[op](value) for op, value in cond.items())


def paginate(items: list[dict], params: dict, url: str) -> dict:
    """Slice newest-first ``items`` with limit/starting_after/ending_before."""
    limit = params.get("limit", 10)
    if not 1 <= limit <= 100:
        raise invalid("Invalid limit: must be between 1 and 100", "limit")
    items = [o for o in items if created_matches(o.get("created", 0), params.get("created"))]
    ids = [o["id"] for o in items]
    after, before = params.get("starting_after"), params.get("ending_before")
    if after is not None and before is not None:
        raise invalid(
            "You may only specify one of these parameters: starting_after, ending_before."
        )
    if after is not None:
        if after not in ids:
            raise invalid(f"No such object: '{after}'", "starting_after", "resource_missing")
        rest = items[ids.index(after) + 1 :]
        page, has_more = rest[:limit], len(rest) > limit
    elif before is not None:
        if before not in ids:
            raise invalid(f"No such object: '{before}'", "ending_before", "resource_missing")
        rest = items[: ids.index(before)]
        page, has_more = rest[-limit:], len(rest) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


def _expand_path(store: Store, node, parts: list[str], resolvers: dict):
    if not parts or node is None:
        return node
    if isinstance(node, list):
        return [_expand_path(store, item, parts, resolvers) for item in node]
    if not isinstance(node, dict):
        return node
    head, rest = parts[0], parts[1:]
    if head not in node and head not in resolvers:
        raise invalid(f"This property cannot be expanded ({head}).", "expand")
    value = node.get(head)
    if head in resolvers and not rest:
        node[head] = resolvers[head](node)
        return node
    if isinstance(value, str):
        target = store.get(value)
        if target is None:
            raise invalid(f"This property cannot be expanded ({head}).", "expand")
        value = copy.deepcopy(target)
    node[head] = _expand_path(store, value, rest, resolvers)
    return node


def expand(store: Store, obj: dict, paths, resolvers: dict | None = None) -> dict:
    """Return a copy of ``obj`` with each dotted path in ``paths`` expanded.

    ``resolvers`` maps field names that are not plain ids (e.g. a Checkout
    Session's ``line_items``) to functions building the expanded value.
    """
    result = copy.deepcopy(obj)
    for path in paths or []:
        _expand_path(store, result, path.split("."), resolvers or {})
    return result
