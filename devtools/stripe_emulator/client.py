"""``EmulatorClient``: drive a running emulator's /_emulator routes from another process."""

import json
import urllib.error
import urllib.request


class EmulatorError(Exception):
    """An /_emulator call failed; ``status`` and Stripe-style ``error`` are attached."""

    def __init__(self, status: int, error: dict):
        super().__init__(error.get("message", f"HTTP {status}"))
        self.status = status
        self.error = error


class EmulatorClient:
    """Thin stdlib HTTP client mirroring the Emulator's simulation helpers."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body or {}).encode() if method == "POST" else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            payload = json.loads(exc.read() or b"{}")
            raise EmulatorError(exc.code, payload.get("error", {})) from None

    def pay(self, session_id, email="reader@example.com", name="Reader", decline=False):
        """Complete a Checkout Session; returns the session."""
        body = {"email": email, "name": name, "decline": decline}
        return self._call("POST", f"/_emulator/checkout/sessions/{session_id}/pay", body)

    def confirm_checkout(self, session_id, card="4242424242424242", three_d_secure=None):
        """Pay a ``ui_mode=elements`` session as the Stripe.js stand-in does.

        Returns ``{"status": "complete"|"requires_action", "session"}``.
        """
        body = {"card": card, "three_d_secure": three_d_secure}
        return self._call("POST", f"/_emulator/checkout/sessions/{session_id}/confirm", body)

    def confirm_setup(
        self,
        setup_intent_id,
        card="4242424242424242",
        three_d_secure=None,
        exp_month=None,
        exp_year=None,
    ):
        """Confirm a SetupIntent with a test card (and the expiry typed); returns it."""
        body = {"card": card, "three_d_secure": three_d_secure}
        body.update(exp_month=exp_month, exp_year=exp_year)
        return self._call("POST", f"/_emulator/setup_intents/{setup_intent_id}/confirm", body)

    def expire(self, session_id):
        """Expire an open Checkout Session."""
        return self._call("POST", f"/_emulator/checkout/sessions/{session_id}/expire")

    def renew(self, subscription_id):
        """Bill the next period successfully."""
        return self._call("POST", f"/_emulator/subscriptions/{subscription_id}/renew")

    def fail_renewal(self, subscription_id):
        """Bill the next period with a failed payment."""
        return self._call("POST", f"/_emulator/subscriptions/{subscription_id}/fail_renewal")

    def upcoming(self, subscription_id, days=7):
        """``invoice.upcoming`` ``days`` before the renewal; returns the preview invoice."""
        body = {"days": days}
        return self._call("POST", f"/_emulator/subscriptions/{subscription_id}/upcoming", body)

    def retry_failed(self, subscription_id, final=False, mark_unpaid=False):
        """Stripe's next retry of a failed renewal, failing again (the last if ``final``)."""
        body = {"final": final, "mark_unpaid": mark_unpaid}
        return self._call("POST", f"/_emulator/subscriptions/{subscription_id}/retry_failed", body)

    def end_unpaid(self, subscription_id, void_invoice=False):
        """Cancel a past_due subscription for non-payment."""
        body = {"void_invoice": void_invoice}
        return self._call("POST", f"/_emulator/subscriptions/{subscription_id}/end_unpaid", body)

    def recover(self, subscription_id):
        """Pay the open invoice of a past_due subscription."""
        return self._call("POST", f"/_emulator/subscriptions/{subscription_id}/recover")

    def cancel(self, subscription_id, at_period_end=False):
        """Cancel a subscription now or at period end."""
        body = {"at_period_end": at_period_end}
        return self._call("POST", f"/_emulator/subscriptions/{subscription_id}/cancel", body)

    def refund(self, charge_id, amount=None, reason=None):
        """Refund a charge (fully when ``amount`` is None)."""
        body = {"amount": amount, "reason": reason}
        return self._call("POST", f"/_emulator/charges/{charge_id}/refund", body)

    def dispute(self, charge_id, reason="fraudulent"):
        """Open a dispute on a charge."""
        return self._call("POST", f"/_emulator/charges/{charge_id}/dispute", {"reason": reason})

    def update_customer(self, customer_id, **fields):
        """Change customer fields (email, name, ...)."""
        return self._call("POST", f"/_emulator/customers/{customer_id}/update", fields)

    def fail_next(
        self, status=500, type="api_error", message=None, count=1, code=None, should_retry=None
    ):
        """Make the next ``count`` /v1 calls fail with this error."""
        body = {"status": status, "type": type, "message": message, "count": count}
        body.update(code=code, should_retry=should_retry)
        return self._call("POST", "/_emulator/fail_next", body)

    def stall_next(self, seconds, count=1):
        """Hold the next ``count`` /v1 calls ``seconds`` before answering them normally."""
        return self._call("POST", "/_emulator/stall_next", {"seconds": seconds, "count": count})

    def api_stats(self, timestamps=False):
        """Counters of /v1 requests since the last reset."""
        return self._call("GET", "/_emulator/api_stats" + ("?timestamps=1" if timestamps else ""))

    def reset_api_stats(self):
        """Zero the /v1 counters."""
        return self._call("POST", "/_emulator/api_stats/reset")

    def reset(self):
        """Clear all emulator state."""
        return self._call("POST", "/_emulator/reset")

    def state(self):
        """Dump of all objects, deliveries and held events."""
        return self._call("GET", "/_emulator/state")

    def events(self):
        """All events, newest first."""
        return self._call("GET", "/_emulator/events")["data"]

    def deliveries(self):
        """Delivery attempts as [event_id, url, status or error]."""
        return self._call("GET", "/_emulator/deliveries")["data"]

    def redeliver(self, event_id):
        """Resend an event to its targets; returns their statuses."""
        return self._call("POST", f"/_emulator/events/{event_id}/redeliver")["statuses"]

    def held_events(self):
        """Events queued while holding."""
        return self._call("GET", "/_emulator/held")["data"]

    def release_held(self):
        """Deliver all held events in order."""
        return self._call("POST", "/_emulator/held/release")

    def advance(self, seconds):
        """Move the emulator clock forward; returns the new time."""
        return self._call("POST", "/_emulator/advance", {"seconds": seconds})["now"]

    def configure(self, **settings):
        """Set ``webhook_url``, ``webhook_secret``, ``hold_events``, ``latency`` and/or
        ``max_requests_per_second``; returns the settings now in force."""
        return self._call("POST", "/_emulator/config", settings)
