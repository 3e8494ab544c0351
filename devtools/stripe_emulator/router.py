"""Tiny path router and the request context handed to /v1 API handlers."""

import re
from dataclasses import dataclass, field

from . import listing, params
from .store import Store
from .webhooks import Events


class Router:
    """Maps (method, path pattern with ``{name}`` placeholders) to handler functions."""

    def __init__(self):
        self.routes: list[tuple[str, re.Pattern, object]] = []

    def add(self, method: str, pattern: str, handler) -> None:
        """Register ``handler`` for ``method`` and ``pattern``."""
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self.routes.append((method, re.compile(f"^{regex}$"), handler))

    def match(self, method: str, path: str):
        """Return (handler, path kwargs), (None, None) if unknown, or (None, methods)."""
        allowed = []
        for route_method, regex, handler in self.routes:
            found = regex.match(path)
            if found:
                if route_method == method:
                    return handler, found.groupdict()
                allowed.append(route_method)
        return None, allowed or None


@dataclass
class ApiRequest:
    """One /v1 call: decoded params, caller's mode and the events it produces."""

    store: Store
    method: str
    path: str
    raw: dict
    livemode: bool
    request_id: str
    idempotency_key: str | None = None
    events: Events = field(init=False)

    def __post_init__(self):
        info = {"id": self.request_id, "idempotency_key": self.idempotency_key}
        self.events = Events(self.store, info)

    def check(self, schema: dict) -> dict:
        """Validate the raw params against ``schema`` (400 on unknown/invalid)."""
        return params.check(self.raw, schema)

    def respond(self, obj: dict, p: dict, resolvers: dict | None = None) -> dict:
        """A response copy of ``obj`` with the requested ``expand[]`` paths applied."""
        return listing.expand(self.store, obj, p.get("expand"), resolvers)

    def list(self, items, p: dict, resolvers: dict | None = None) -> dict:
        """A paginated list response for ``items`` (newest first)."""
        page = listing.paginate(items, p, self.path)
        return listing.expand(self.store, page, p.get("expand"), resolvers)
