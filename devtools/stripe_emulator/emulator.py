"""The ``Emulator``: server lifecycle, clock, webhook settings and simulation helpers."""

import copy
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

from . import cards, elements_flow, payment_flow, setup_flow, subscription_flow, webhooks
from .api import Api
from .errors import StripeError
from .limits import Limits
from .store import Store
from .webhooks import Deliverer, Events


class Emulator:
    """A stateful Stripe API emulator served over HTTP on 127.0.0.1.

    Objects returned by the real ``stripe`` library are typed (``stripe.Subscription``
    ...). On those, both ``sub["items"]`` and ``sub.items`` reach the items list
    (StripeObject is not a dict in stripe-python 15+), so
    ``sub.items.data[0].current_period_end`` works.

    Simulation helpers (``pay``, ``renew``, ...) return plain dicts and deliver the
    resulting webhooks synchronously, in order, before returning.

    ``latency`` (seconds) is added before answering each /v1 request, and
    ``max_requests_per_second`` caps accepted /v1 requests in any one second (429 beyond
    it), as Stripe's own round trip and rate limit do; see ``api_stats()``.

    ``state_file``: keep the objects in this JSON file, loaded at start and written
    after each changing request, so a restarted emulator still knows the customers a
    development database remembers. Without it (tests), state lives in memory only.
    """

    def __init__(
        self,
        webhook_url=None,
        webhook_secret="whsec_test",
        api_key=None,
        *,
        host="127.0.0.1",
        port=0,
        public_url=None,
        hold_events=False,
        delivery_timeout=10.0,
        latency=0.0,
        max_requests_per_second=None,
        state_file=None,
    ):
        self.api_key = api_key
        self.host, self.port = host, port
        self.public_url = public_url
        self.store = Store()
        self.state_file = Path(state_file) if state_file else None
        if self.state_file is not None:
            try:
                self.store.load(self.state_file)
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(
                    f"{self.state_file} is not a saved emulator state ({exc}): delete it"
                ) from exc
        self.deliverer = Deliverer(self.store, webhook_url, webhook_secret, hold_events)
        self._hold_default = hold_events
        self.deliverer.timeout = delivery_timeout
        self.api = Api(self)
        self.failures: list[StripeError] = []
        self.limits = Limits(latency, max_requests_per_second)
        self.url = None
        self._server = None
        self._thread = None

    # -- lifecycle -------------------------------------------------------------------------
    def bind(self) -> ThreadingHTTPServer:
        """Open the listening socket and set ``url`` (and ``public_url`` if unset)."""
        from .server import Handler, Server

        self._server = Server((self.host, self.port), Handler)
        self._server.emulator = self
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.public_url = (self.public_url or self.url).rstrip("/")
        self.store.public_url = self.public_url
        return self._server

    def start(self) -> "Emulator":
        """Serve in a daemon thread; returns self."""
        server = self.bind()
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def persist(self) -> None:
        """Write the state to ``state_file``, when there is one."""
        if self.state_file is not None:
            self.store.save(self.state_file)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- configuration -----------------------------------------------------------------
    webhook_url = property(
        lambda self: self.deliverer.url, lambda self, v: setattr(self.deliverer, "url", v)
    )
    webhook_secret = property(
        lambda self: self.deliverer.secret, lambda self, v: setattr(self.deliverer, "secret", v)
    )
    hold_events = property(
        lambda self: self.deliverer.hold, lambda self, v: setattr(self.deliverer, "hold", v)
    )

    latency = property(
        lambda self: self.limits.latency, lambda self, v: setattr(self.limits, "latency", v)
    )
    max_requests_per_second = property(
        lambda self: self.limits.max_requests_per_second,
        lambda self, v: setattr(self.limits, "max_requests_per_second", v),
    )

    @property
    def deliveries(self) -> list:
        """Every delivery attempt as ``(event_id, url, status_code or error)``."""
        return self.deliverer.deliveries

    # -- clock -------------------------------------------------------------------------
    def now(self) -> int:
        """Emulator time (real time plus any ``advance``)."""
        return self.store.now()

    def advance(self, seconds: int) -> int:
        """Move the clock forward; returns the new time."""
        with self.store.lock:
            self.store.offset += int(seconds)
            return self.store.now()

    # -- simulation helpers ----------------------------------------------------------------
    def run(self, flow, *args, **kwargs):
        """Run ``flow(store, events, ...)`` under the lock, then deliver its events."""
        events = Events(self.store)
        with self.store.lock:
            mark = self.store.counter
            try:
                result = copy.deepcopy(flow(self.store, events, *args, **kwargs))
            except StripeError:
                self.store.rollback(mark)
                raise
            self.deliverer.enqueue(events)
        self.deliverer.flush()
        return result

    def pay(self, session_id, email="reader@example.com", name="Reader", decline=False):
        """Complete a Checkout Session as the Pay button does; returns the session."""
        return self.run(payment_flow.pay, session_id, email, name, decline)

    def confirm_checkout(
        self, session_id, client_secret=None, card=cards.SUCCESS, *, three_d_secure=None, **details
    ):
        """Pay a ``ui_mode=elements`` session as the Stripe.js stand-in does.

        Returns ``{"status": "complete"|"requires_action", "session"}``; a 3-D Secure
        card needs a second call with ``three_d_secure="complete"`` (or ``"fail"``).
        ``client_secret`` defaults to the session's own.
        """
        if client_secret is None:
            client_secret = (self.get(session_id) or {}).get("client_secret")
        details["three_d_secure"] = three_d_secure
        return self.run(elements_flow.confirm, session_id, client_secret, card, **details)

    def confirm_setup(
        self,
        setup_intent_id,
        card=cards.SUCCESS,
        three_d_secure=None,
        exp_month=None,
        exp_year=None,
    ):
        """Confirm a SetupIntent with a test card (or answer its 3-D Secure step).

        Returns the SetupIntent; a decline or failed challenge is in its
        ``last_setup_error`` (status ``requires_payment_method``), as on Stripe.
        """

        def flow(store, events):
            expiry = (exp_month, exp_year)
            return setup_flow.confirm(store, events, setup_intent_id, card, three_d_secure, expiry)[
                0
            ]

        return self.run(flow)

    def renew(self, subscription_id):
        """Bill the next period successfully; returns the subscription."""
        return self.run(subscription_flow.renew, subscription_id)

    def fail_renewal(self, subscription_id):
        """Bill the next period with a failed payment (``past_due``)."""
        return self.run(subscription_flow.fail_renewal, subscription_id)

    def upcoming(self, subscription_id, days=7):
        """``invoice.upcoming`` ``days`` before the renewal; returns the preview invoice."""
        return self.run(subscription_flow.upcoming, subscription_id, days)

    def retry_failed(self, subscription_id, final=False, mark_unpaid=False):
        """Stripe's next retry of a failed renewal, failing again (the last one if ``final``)."""
        return self.run(subscription_flow.retry_failed, subscription_id, final, mark_unpaid)

    def end_unpaid(self, subscription_id, void_invoice=False):
        """Cancel a past_due subscription for non-payment (``reason: payment_failed``)."""
        return self.run(subscription_flow.end_unpaid, subscription_id, void_invoice)

    def recover(self, subscription_id):
        """Pay the open invoice of a ``past_due`` subscription."""
        return self.run(subscription_flow.recover, subscription_id)

    def cancel(self, subscription_id, at_period_end=False):
        """Cancel now or at period end, as the portal buttons do."""
        return self.run(subscription_flow.cancel, subscription_id, at_period_end)

    def refund(self, charge_id, amount=None, reason=None):
        """Refund a charge fully or partially; returns the refund."""

        def flow(store, events):
            ch = payment_flow.find_charge(store, charge_id)
            return payment_flow.refund(store, events, ch, amount, reason)

        return self.run(flow)

    def dispute(self, charge_id, reason="fraudulent"):
        """Open a dispute on a charge; returns the dispute."""
        return self.run(payment_flow.dispute, charge_id, reason)

    def update_customer(self, customer_id, **fields):
        """Change customer fields (``email``, ``name``, ...); emits ``customer.updated``."""
        return self.run(payment_flow.update_customer, customer_id, fields)

    def expire(self, session_id):
        """Expire an open Checkout Session."""

        def flow(store, events):
            session = store.require(session_id, "checkout.session")
            return payment_flow.expire(store, events, session)

        return self.run(flow)

    def fail_next(
        self, status=500, type="api_error", message=None, count=1, code=None, should_retry=None
    ):
        """Make the next ``count`` accepted /v1 calls answer this error.

        ``should_retry`` True/False sends ``Stripe-Should-Retry: true``/``false`` with it
        (stripe-python obeys that header over its own status rules); None sends none.
        """
        message = message or "An unknown error occurred"
        headers = {}
        if should_retry is not None:
            headers["Stripe-Should-Retry"] = "true" if should_retry else "false"
        with self.store.lock:
            for _ in range(count):
                error = StripeError(status, message, type=type, code=code, headers=headers)
                self.failures.append(error)

    def take_failure(self):
        """Pop the next injected failure, if any (used by the API pipeline)."""
        with self.store.lock:
            if not self.failures:
                return None
            self.limits.count_injected()
            return self.failures.pop(0)

    def stall_next(self, seconds: float, count: int = 1) -> None:
        """Hold the next ``count`` accepted /v1 calls ``seconds`` (on top of ``latency``).

        The call then runs and answers normally, so a client that timed out meanwhile
        has changed state without seeing the answer, as with a response lost on the way.
        """
        self.limits.stall_next(seconds, count)

    def wait_answered(self, timeout: float = 10.0) -> bool:
        """Wait until every /v1 request received so far has been answered, stalled ones
        included (their clients may have given up long ago); False after ``timeout``.

        A test that stalled a call waits on this rather than sleeping, so the stalled
        call cannot take a failure the next test injects.
        """
        return self.limits.wait_answered(timeout)

    def api_stats(self, timestamps: bool = False) -> dict:
        """Counters of /v1 requests since the last reset (fields in the README)."""
        return self.limits.stats(timestamps)

    def reset_api_stats(self) -> None:
        """Zero the /v1 counters only: objects, stalls and the rate window are kept."""
        self.limits.reset_stats()

    def reset(self) -> None:
        """Forget all objects, events, deliveries, held events, injected failures and stalls.

        Also zeroes the /v1 counters and empties the rate-limit window, so a test starts
        with a full budget. ``hold_events`` returns to its constructor value;
        ``webhook_url``, ``latency`` and ``max_requests_per_second`` are kept.
        """
        with self.store.lock:
            self.store.reset()
            self.hold_events = self._hold_default
            self.failures.clear()
            self.deliverer.deliveries.clear()
            self.deliverer.held.clear()
            self.limits.clear()
            self.persist()

    def state(self) -> dict:
        """JSON-able dump: ``now``, ``objects`` by type (oldest first), deliveries, held ids."""
        dump = self.store.dump()
        dump["deliveries"] = [list(d) for d in self.deliveries]
        dump["held"] = [e["id"] for e in self.deliverer.held]
        return dump

    def get(self, obj_id):
        """A copy of any stored object by id (or None)."""
        with self.store.lock:
            return copy.deepcopy(self.store.get(obj_id))

    def events(self, type=None) -> list:
        """All events, newest first, optionally only of one type."""
        with self.store.lock:
            found = self.store.all("event")
            return copy.deepcopy([e for e in found if type is None or e["type"] == type])

    # -- webhooks ----------------------------------------------------------------------------
    def held_events(self) -> list:
        """Events queued while ``hold_events`` is on (oldest first)."""
        return copy.deepcopy(self.deliverer.held)

    def release_held(self) -> None:
        """Deliver and clear every held event, in order."""
        with self.store.lock:
            held, self.deliverer.held = self.deliverer.held, []
            self.deliverer.enqueue(held, force=True)
        self.deliverer.flush()

    def _event(self, event):
        if isinstance(event, str):
            with self.store.lock:
                return copy.deepcopy(self.store.require(event, "event"))
        return event

    def deliver(self, event, url=None, secret=None):
        """POST one event (dict or id) to ``url`` (default ``webhook_url``); returns status."""
        event = self._event(event)
        url = url or self.webhook_url
        if secret is None:
            pairs = dict(self.deliverer.targets(event))
            secret = pairs.get(url, self.webhook_secret)
        return self.deliverer.post(event, url, secret)

    def redeliver(self, event_id) -> list:
        """Send an event again to all its targets; returns the status codes."""
        event = self._event(event_id)
        return [self.deliverer.post(event, u, s) for u, s in self.deliverer.targets(event)]

    def sign(self, payload: bytes, secret=None, timestamp=None) -> str:
        """A ``Stripe-Signature`` header for ``payload``."""
        return webhooks.sign(payload, secret or self.webhook_secret, timestamp)

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Wait until deliveries triggered by API calls have been attempted."""
        return self.deliverer.wait_idle(timeout)
