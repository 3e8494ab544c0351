"""The /v1 request pipeline: injected failures, auth, idempotency, routing, rollback."""

import base64
import json
import re
import traceback

from . import api_billing, api_catalog, api_checkout, api_setup, api_subscriptions
from .errors import StripeError
from .router import ApiRequest, Router

KEY_PATTERN = re.compile(r"^[sr]k_(test|live)_\w+$")
NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the "
    "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
)


def _key_from_header(header: str | None) -> str | None:
    """Extract the secret key from Bearer or Basic (``key:``) authorization."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().partition(":")[0] or None
        except ValueError:
            return None
    return None


def _mask(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 4) + key[-4:]


class Api:
    """Answers /v1 calls as (status, body, extra headers, events to deliver)."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.router = Router()
        api_catalog.register(self.router)
        api_checkout.register(self.router)
        api_billing.register(self.router)
        api_setup.register(self.router)
        api_subscriptions.register(self.router)

    def authenticate(self, header) -> tuple[str, bool]:
        """Return (key, livemode) or raise a 401."""
        key = _key_from_header(header)
        if not key:
            raise StripeError(401, NO_KEY)
        expected = self.emulator.api_key
        if (expected and key != expected) or not KEY_PATTERN.match(key):
            raise StripeError(401, f"Invalid API Key provided: {_mask(key)}")
        return key, "_live_" in key

    def call(self, method, path, raw, auth, idempotency_key, request_id):
        """Run one API call; never raises."""
        store = self.emulator.store
        with store.lock:
            failure = self.emulator.take_failure()
            if failure is not None:
                return failure.status, failure.body(request_id), failure.headers, []
            try:
                key, livemode = self.authenticate(auth)
            except StripeError as exc:
                return exc.status, exc.body(request_id), {}, []
            record_key = (key, idempotency_key) if method == "POST" and idempotency_key else None
            fingerprint = json.dumps([method, path, raw], sort_keys=True)
            if record_key and record_key in store.idempotency:
                return self._replay(store.idempotency[record_key], fingerprint, request_id)
            mark = store.counter
            req = ApiRequest(store, method, path, raw, livemode, request_id, idempotency_key)
            try:
                status, body = 200, self._route(req)
            except StripeError as exc:
                status, body = exc.status, exc.body(request_id)
                if not exc.keep_state:
                    store.rollback(mark)
                    req.events[:] = []
            except Exception:
                traceback.print_exc()
                store.rollback(mark)
                err = StripeError(500, "An unknown error occurred", type="api_error")
                status, body, req.events[:] = 500, err.body(request_id), []
            if record_key and (status < 400 or status in (402, 500)):
                store.idempotency[record_key] = {
                    "fingerprint": fingerprint,
                    "status": status,
                    "body": body,
                }
            # Queue now, while still holding the lock, so events keep creation order.
            self.emulator.deliverer.enqueue(req.events)
            return status, body, {}, list(req.events)

    def _replay(self, record, fingerprint, request_id):
        if record["fingerprint"] != fingerprint:
            err = StripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                "were first used with. Try using a key other than the one used in the original "
                "request if you meant to execute a different request.",
                type="idempotency_error",
            )
            return 400, err.body(request_id), {}, []
        return record["status"], record["body"], {"Idempotent-Replayed": "true"}, []

    def _route(self, req: ApiRequest) -> dict:
        handler, found = self.router.match(req.method, req.path)
        if handler is None:
            raise StripeError(
                404,
                f"Unrecognized request URL ({req.method}: {req.path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            )
        return handler(req, **found)
