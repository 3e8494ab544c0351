"""Thread-safe in-memory object store and clock, optionally kept in a JSON file.

Every mutation happens while holding ``Store.lock`` (a re-entrant lock); webhook
delivery happens after the lock is released so the receiving app can call back.
"""

import copy
import json
import os
import secrets
import string
import threading
import time
from pathlib import Path

from .errors import not_found

_ALPHABET = string.ascii_letters + string.digits

# Object type -> the noun Stripe uses in "No such ..." messages.
KIND_NAMES = {"checkout.session": "checkout.session", "billing_portal.session": "session"}


def random_token(length: int = 24) -> str:
    """Random alphanumeric string for ids and secrets."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


class Store:
    """All emulator state: objects by id, private extras, idempotency records, clock."""

    def __init__(self):
        self.lock = threading.RLock()
        self.public_url = "http://127.0.0.1"
        self.reset()

    def reset(self) -> None:
        """Forget every object, event and idempotency record; reset the clock."""
        with self.lock:
            self.objects: dict[str, dict] = {}
            self.extra: dict[str, dict] = {}
            self.seq: dict[str, int] = {}
            self.idempotency: dict[tuple, dict] = {}
            self.offset = 0
            self.counter = 0
            self.invoice_number = 0

    def next_invoice_number(self) -> int:
        """The next invoice number (1, 2, ...), as the invoice prefix's sequence."""
        with self.lock:
            self.invoice_number += 1
            return self.invoice_number

    def now(self) -> int:
        """Current emulator time as a unix timestamp."""
        return int(time.time()) + self.offset

    def new_id(self, prefix: str, length: int = 24) -> str:
        """A fresh id such as ``cus_`` + random characters."""
        return prefix + random_token(length)

    def add(self, obj: dict, extra: dict | None = None) -> dict:
        """Store an object (keyed by its ``id``) and optional private data."""
        with self.lock:
            self.objects[obj["id"]] = obj
            if obj["id"] not in self.seq:
                self.counter += 1
                self.seq[obj["id"]] = self.counter
            if extra is not None:
                self.extra[obj["id"]] = extra
            return obj

    def rollback(self, mark: int) -> None:
        """Drop objects added after ``mark`` (a past ``counter``) when a call fails."""
        with self.lock:
            for obj_id in [i for i, n in self.seq.items() if n > mark]:
                self.objects.pop(obj_id, None)
                self.extra.pop(obj_id, None)
                del self.seq[obj_id]

    def get(self, obj_id, kind: str | None = None) -> dict | None:
        """Return the stored object or None (also None when its type differs)."""
        obj = self.objects.get(obj_id) if isinstance(obj_id, str) else None
        if obj is None or (kind and obj.get("object") != kind):
            return None
        return obj

    def require(self, obj_id, kind: str, param: str = "id") -> dict:
        """Return the stored object or raise Stripe's 404 ``No such <kind>``."""
        obj = self.get(obj_id, kind)
        if obj is None:
            raise not_found(KIND_NAMES.get(kind, kind), obj_id, param)
        return obj

    def all(self, kind: str) -> list[dict]:
        """All objects of a type, newest first."""
        found = [o for o in self.objects.values() if o.get("object") == kind]
        return sorted(found, key=lambda o: self.seq[o["id"]], reverse=True)

    def snapshot(self, obj: dict) -> dict:
        """Deep copy of an object, as frozen into an event or response."""
        return copy.deepcopy(obj)

    def dump(self) -> dict:
        """All objects grouped by type (oldest first) plus the clock, for assertions."""
        with self.lock:
            grouped: dict[str, list] = {}
            ordered = sorted(self.objects.values(), key=lambda o: self.seq[o["id"]])
            for obj in ordered:
                grouped.setdefault(obj.get("object", "unknown"), []).append(obj)
            return copy.deepcopy({"now": self.now(), "objects": grouped})

    # -- persistence (development: `make run` keeps its customers across restarts) ---------
    def save(self, path: Path) -> None:
        """Write every object, private extra, idempotency record and the clock to `path`.

        Written to a temporary file and renamed, so a stop midway leaves the last
        complete state rather than half a file.
        """
        with self.lock:
            state = {
                "objects": self.objects,
                "extra": self.extra,
                "seq": self.seq,
                "idempotency": [[*key, record] for key, record in self.idempotency.items()],
                "offset": self.offset,
                "counter": self.counter,
                "invoice_number": self.invoice_number,
            }
            # Still under the lock: two requests finishing together take turns.
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".tmp")
            try:
                with open(partial, "w") as file:
                    file.write(json.dumps(state))
                    file.flush()
                    os.fsync(file.fileno())  # on disk before it takes the state file's name
                os.replace(partial, path)
            except BaseException:  # a signal or a full disk: the last complete state stays
                partial.unlink(missing_ok=True)
                raise

    def load(self, path: Path) -> bool:
        """Replace the state with what `save` wrote to `path`; False when there is no file."""
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            return False
        with self.lock:
            self.reset()
            self.objects = state["objects"]
            self.extra = state["extra"]
            self.seq = state["seq"]
            self.idempotency = {(k, i): record for k, i, record in state["idempotency"]}
            self.offset = state["offset"]
            self.counter = state["counter"]
            self.invoice_number = state["invoice_number"]
        return True
