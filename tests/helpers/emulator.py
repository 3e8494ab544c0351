"""The Stripe emulator on its own: a webhook receiver, fixtures, request parameters, HTTP.

The `test_stripe_emulator*` files import the `receiver`, `emu` and `sc` fixtures from here.
"""

import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from devtools.stripe_emulator import Emulator

SECRET = "whsec_emulator_tests"


SUCCESS = "https://news.example.org/thanks?session_id={CHECKOUT_SESSION_ID}"


CANCEL = "https://news.example.org/support"


class Receiver:
    """Collects webhook POSTs; answers ``status`` (200 unless a test changes it)."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def events(self, secret=SECRET) -> list:
        """Every delivery, verified and parsed as ``stripe.Event`` objects."""
        return [
            stripe.Webhook.construct_event(body, headers["Stripe-Signature"], secret)
            for headers, body in self.requests
        ]

    def types(self, secret=SECRET) -> list[str]:
        """Event types in arrival order."""
        return [event.type for event in self.events(secret)]


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


@pytest.fixture
def emu(receiver):
    with Emulator(webhook_url=receiver.url, webhook_secret=SECRET) as emulator:
        yield emulator


@pytest.fixture
def sc(emu):
    """A StripeClient configured the way the app configures it."""
    return stripe.StripeClient(
        "sk_test_emulator", base_addresses={"api": emu.url}, max_network_retries=0
    )


def just_now(emu, moment: int, slack: int = 5) -> bool:
    """Whether `moment` is the emulator's present: its clock is real time (plus what was
    advanced), so a second may turn between the emulator stamping a time and a test
    reading its clock."""
    return 0 <= emu.now() - moment <= slack


def subscription_params(**overrides) -> dict:
    """What the donations app sends for a monthly gift."""
    params = {
        "mode": "subscription",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 1000,
                    "product_data": {"name": "Monthly support"},
                    "recurring": {"interval": "month"},
                },
                "quantity": 1,
            }
        ],
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "locale": "en",
        "customer_email": "reader@example.com",
        "metadata": {"lang": "ar", "donation": "42"},
        "subscription_data": {"metadata": {"donation": "42"}},
        "client_reference_id": "42",
    }
    params.update(overrides)
    return params


def payment_params(**overrides) -> dict:
    """A one-time gift."""
    params = subscription_params()
    del params["line_items"][0]["price_data"]["recurring"]
    del params["subscription_data"]
    params.update(mode="payment", submit_type="donate")
    params["payment_intent_data"] = {"metadata": {"donation": "7"}}
    params.update(overrides)
    return params


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http(method, url, form=None, headers=None):
    """Plain HTTP without following redirects: returns (status, headers, text)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def pay_on_page(url, email="reader@example.com", name="Rana Reader", **extra):
    """Submit the hosted Checkout form as a browser would."""
    return http("POST", url, {"email": email, "name": name, "action": "pay", **extra})
