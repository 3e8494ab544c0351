"""HTTP front end: dispatches /v1 API calls, hosted pages and /_emulator helpers."""

import contextlib
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import dashboard, forms, js, pages, simulate
from .errors import StripeError
from .limits import rate_limited
from .store import random_token

SIMULATION = simulate.build_router()


class Server(ThreadingHTTPServer):
    """One thread per connection; ``emulator`` is set by ``Emulator.bind``."""

    daemon_threads = True
    # The default backlog of 5 drops connections when a burst of clients connect at
    # once (a worker pool, a benchmark); each dropped SYN costs a one-second retry.
    request_queue_size = 128


class Handler(BaseHTTPRequestHandler):
    """Request handler; ``self.server.emulator`` is the owning Emulator."""

    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes; without this, Nagle's algorithm plus
    # delayed ACKs stall every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True
    server_version = "stripe-emulator"

    def log_message(self, format, *args):
        """Stay quiet; tests and the CLI inspect state instead of access logs."""

    @property
    def emulator(self):
        return self.server.emulator

    def handle(self):
        """Serve the connection's requests; a client hanging up midway just ends it."""
        # Clients that time out (see ``stall_next``) reset the connection; that is
        # expected, not a server error worth a traceback.
        with contextlib.suppress(ConnectionError):
            super().handle()

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, body: bytes, content_type, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        try:
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except ConnectionError:
            # The client gave up (e.g. timed out on a stalled call): nothing to tell it.
            self.close_connection = True

    def _json(self, status, data, headers=None):
        body = json.dumps(data, indent=2).encode()
        self._send(status, body, "application/json", headers)

    def _html(self, status, headers, html: str):
        self._send(status, html.encode(), "text/html; charset=utf-8", headers)

    def _dispatch(self, method):
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        body = self._body()
        if path.startswith("/v1/"):
            self._api(method, path, parts.query, body)
        elif path.startswith("/c/pay/"):
            self._page(
                method, path.removeprefix("/c/pay/"), body, pages.checkout_get, pages.checkout_post
            )
        elif path.startswith("/p/session/"):
            self._page(
                method, path.removeprefix("/p/session/"), body, pages.portal_get, pages.portal_post
            )
        elif path.startswith("/receipts/payment/"):
            self._page(
                method, path.removeprefix("/receipts/payment/"), body, pages.receipt_get, None
            )
        elif path.startswith("/dashboard/"):
            self._page(method, path.removeprefix("/dashboard/"), body, dashboard.object_get, None)
        elif path.startswith("/v3/"):
            status, headers, data = js.handle(self.emulator, method, path, parts.query, body)
            self._send(status, data, headers.pop("Content-Type"), headers)
        elif path.startswith("/_emulator/"):
            self._simulation(method, path, parts.query, body)
        else:
            self._html(404, {}, pages.page("Not found", "<h1>Not found</h1>"))
        if method != "GET":
            # Only POST and DELETE change objects; keep them should the emulator restart.
            self.emulator.persist()

    def _api(self, method, path, query, body):
        request_id = "req_" + random_token(14)
        limits = self.emulator.limits
        refused, delay = limits.admit()
        if delay:
            # Outside every lock: concurrent requests overlap their latency as on Stripe.
            time.sleep(delay)
        if refused:
            status, data, headers, events = 429, rate_limited().body(request_id), {}, []
        else:
            raw = forms.decode(query)
            if body:
                raw.update(forms.decode(body.decode("utf-8", "replace")))
            status, data, headers, events = self.emulator.api.call(
                method,
                path,
                raw,
                self.headers.get("Authorization"),
                self.headers.get("Idempotency-Key"),
                request_id,
            )
        limits.answered(status)
        headers = {
            "Request-Id": request_id,
            "Stripe-Version": self.headers.get("Stripe-Version") or "2026-10-28.endive",
            **headers,
        }
        self._json(status, data, headers)
        if events:
            # Like Stripe, webhooks for API calls go out after the response is sent.
            self.emulator.deliverer.flush()

    def _page(self, method, object_id, body, get_handler, post_handler):
        if "/" in object_id:
            return self._html(404, {}, pages.page("Not found", "<h1>Not found</h1>"))
        if method == "GET":
            status, headers, html = get_handler(self.emulator, object_id)
        elif method == "POST" and post_handler is not None:
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            status, headers, html = post_handler(self.emulator, object_id, form)
        else:
            status, headers, html = 405, {}, pages.page("Not allowed", "<h1>Not allowed</h1>")
        self._html(status, headers, html)

    def _simulation(self, method, path, query, body):
        handler, found = SIMULATION.match(method, path)
        if handler is None:
            return self._json(
                404,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"Unknown route {method} {path}",
                    }
                },
            )
        try:
            data = json.loads(body) if body else dict(parse_qsl(query))
            self._json(200, handler(self.emulator, data, **found))
        except StripeError as exc:
            self._json(exc.status, exc.body())
        except (TypeError, ValueError) as exc:
            self._json(400, {"error": {"type": "invalid_request_error", "message": str(exc)}})
