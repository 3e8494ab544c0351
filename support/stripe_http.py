"""Plain GETs of Stripe objects, for `stripe_api`'s retrieve functions only.

The webhook handlers read one to three objects per event. Through the stripe
library each read cost about 1.1 ms of CPU (request building, telemetry,
`requests` and its proxy lookups) against 0.2 ms for the same GET on a kept
open `http.client` connection, and that CPU is shared with PostgreSQL and the
other workers. So reads go straight over HTTP/1.1: one keep-alive connection
per thread, the same headers (secret key, pinned API version), the same
certificate bundle, one retry on a dropped connection or a 429/5xx answer.
Nothing is cached: every call asks Stripe. Writes keep using the library.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit

import stripe

RETRY_STATUSES = {409, 429, 500, 502, 503, 504}
TIMEOUT = 20  # seconds: a webhook is waiting, but Stripe can be slow


class ReadFailed(Exception):
    """Stripe did not give the object: `status` 0 for a network failure."""

    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.code = status, code


_local = threading.local()


def _connection(base: str) -> http.client.HTTPConnection:
    """This thread's open connection to `base`, made on first use."""
    connections = getattr(_local, "connections", None)
    if connections is None:
        connections = _local.connections = {}
    connection = connections.get(base)
    if connection is None:
        parts = urlsplit(base)
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=stripe.ca_bundle_path)
            connection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=TIMEOUT, context=context
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
        connections[base] = connection
    return connection


def _drop(base: str) -> None:
    connection = getattr(_local, "connections", {}).pop(base, None)
    if connection is not None:
        connection.close()


def query_string(params: dict[str, Any]) -> str:
    """Stripe's form encoding for flat values and lists (`expand[0]=...`)."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if isinstance(value, list | tuple):
            pairs += [(f"{name}[{i}]", str(item)) for i, item in enumerate(value)]
        else:
            pairs.append((name, str(value)))
    return urlencode(pairs)


def get(base: str, key: str, version: str, path: str, params: dict[str, Any]) -> dict:
    """GET `path` (with `params`) from the API at `base`; the object as a dict.

    Raises `ReadFailed` with Stripe's status and error code when it refuses,
    or status 0 when it cannot be reached (after one retry).
    """
    target = path + (f"?{query_string(params)}" if params else "")
    headers = {
        "Authorization": f"Bearer {key}",
        "Stripe-Version": version,
        "User-Agent": f"Stripe/v1 PythonBindings/{stripe.VERSION} (support reads)",
    }
    for attempt in range(2):
        try:
            connection = _connection(base)
            connection.request("GET", target, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            if answer.will_close:
                _drop(base)
        except (OSError, http.client.HTTPException) as error:
            _drop(base)
            if attempt:
                raise ReadFailed(0, f"Stripe could not be reached: {error}") from error
            continue
        if answer.status == 200:
            return json.loads(body)
        if answer.status in RETRY_STATUSES and not attempt:
            continue
        try:
            error = json.loads(body).get("error") or {}
        except ValueError:
            error = {}
        message = error.get("message") or f"HTTP {answer.status}"
        raise ReadFailed(answer.status, message, error.get("code"))
    raise AssertionError("unreachable")
