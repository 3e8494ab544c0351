"""Events: creation, Stripe-compatible signing and HTTP delivery to endpoints."""

import copy
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from typing import NamedTuple

from .catalog import API_VERSION
from .store import Store

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


class Delivery(NamedTuple):
    """One delivery attempt: ``result`` is the HTTP status or an error string."""

    event_id: str
    url: str
    result: int | str


def make_event(store: Store, type_, obj, previous=None, request=None) -> dict:
    """Create and store an event holding a snapshot of ``obj`` as it is now."""
    data = {"object": copy.deepcopy(obj)}
    if previous is not None:
        data["previous_attributes"] = copy.deepcopy(previous)
    event = {
        "id": store.new_id("evt_"),
        "object": "event",
        "api_version": API_VERSION,
        "created": store.now(),
        "data": data,
        "livemode": bool(obj.get("livemode")),
        "pending_webhooks": 1,
        "request": request or {"id": None, "idempotency_key": None},
        "type": type_,
    }
    return store.add(event)


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload`` (``t=...,v1=...``)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    signed = f"{ts}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def encode(event: dict) -> bytes:
    """Serialize an event the way it is posted (pretty JSON, UTF-8)."""
    return json.dumps(event, indent=2, ensure_ascii=False).encode("utf-8")


def matches(enabled_events, event_type) -> bool:
    """Whether an endpoint subscribed with ``enabled_events`` wants ``event_type``."""
    return "*" in enabled_events or event_type in enabled_events


class Deliverer:
    """Sends events to the configured URL and created webhook endpoints, in order.

    Events join one FIFO queue when they are created (under the store lock), and
    whichever thread flushes next delivers everything queued so far. Deliveries
    are serialized, so receivers see events in creation order even when several
    request threads produce them.
    """

    def __init__(self, store: Store, url, secret, hold=False, timeout=10.0):
        self.store = store
        self.url = url
        self.secret = secret
        self.hold = hold
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self.held: list[dict] = []
        self.queue: deque[dict] = deque()
        self._send_lock = threading.Lock()
        self._cond = threading.Condition()
        self._sending = False

    def targets(self, event: dict) -> list[tuple[str, str]]:
        """(url, secret) pairs that should receive ``event``."""
        found = []
        if self.url:
            found.append((self.url, self.secret))
        with self.store.lock:
            for endpoint in reversed(self.store.all("webhook_endpoint")):
                extra = self.store.extra.get(endpoint["id"], {})
                if endpoint["status"] == "enabled" and matches(
                    endpoint["enabled_events"], event["type"]
                ):
                    found.append((endpoint["url"], extra.get("secret", self.secret)))
        return found

    def post(self, event: dict, url: str, secret: str) -> int | None:
        """POST one signed event; record and return the status (None on network error)."""
        payload = encode(event)
        request = urllib.request.Request(url, data=payload, method="POST")
        request.add_header("Content-Type", "application/json; charset=utf-8")
        request.add_header("User-Agent", USER_AGENT)
        request.add_header("Stripe-Signature", sign(payload, secret or ""))
        status: int | None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
                status, result = response.status, response.status
        except urllib.error.HTTPError as exc:
            status, result = exc.code, exc.code
        except (OSError, ValueError) as exc:
            status, result = None, f"error: {exc}"
        self.deliveries.append(Delivery(event["id"], url, result))
        return status

    def enqueue(self, events: list[dict], force=False) -> None:
        """Queue events for delivery (or hold them while ``hold`` is on)."""
        with self._cond:
            if self.hold and not force:
                self.held.extend(events)
            else:
                self.queue.extend(events)

    def flush(self) -> None:
        """Deliver every queued event, in order, to all of its targets."""
        with self._send_lock:
            while True:
                with self._cond:
                    if not self.queue:
                        self._sending = False
                        self._cond.notify_all()
                        return
                    event = self.queue.popleft()
                    self._sending = True
                for url, secret in self.targets(event):
                    self.post(event, url, secret)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the queue is empty and no delivery is running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self.queue and not self._sending, timeout)


class Events(list):
    """Events produced by one operation, in order, awaiting delivery."""

    def __init__(self, store: Store, request: dict | None = None):
        super().__init__()
        self.store = store
        self.request = request

    def emit(self, type_: str, obj: dict, previous: dict | None = None) -> dict:
        """Create, store and collect an event for ``obj``."""
        event = make_event(self.store, type_, obj, previous, self.request)
        self.append(event)
        return event
