"""The Stripe.js stand-in in headless Chromium, on a page with a strict CSP.

A tiny page served from its own origin loads ``/v3/stripe.js`` from the emulator,
mounts the Payment Element and confirms, in English and in Arabic: a Checkout Session
for Elements (success, decline, 3-D Secure) and a SetupIntent.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import emulator as base
from tests.helpers.emulator import payment_params, subscription_params

receiver, emu, sc = base.receiver, base.emu, base.sc
pytestmark = pytest.mark.browser

PAGE_JS = """
"use strict";
var data = document.body.dataset;
var result = document.getElementById("result");
var stripe = Stripe("pk_test_emulator", { locale: data.locale });
function show(text) { result.textContent = text; }
var element;
var confirm;
if (data.kind === "checkout") {
  var checkout = stripe.initCheckoutElementsSdk({
    clientSecret: data.secret, elementsOptions: { appearance: { theme: "stripe" } }
  });
  element = checkout.createPaymentElement();
  checkout.on("change", function (session) {
    document.body.setAttribute("data-session-status", session.status.type);
  });
  var loaded = checkout.loadActions().then(function (answer) {
    if (answer.type === "success") {
      document.getElementById("total").textContent = answer.actions.getSession().total.total.amount;
    }
    return answer.actions;
  });
  confirm = function () {
    return loaded.then(function (actions) {
      var options = data.redirect === "always" ? {} : { redirect: "if_required" };
      return actions.confirm(options);
    }).then(function (answer) {
      if (answer.type === "success") return show("paid:" + answer.session.status.type);
      var failed = answer.error.paymentFailed;
      var decline = failed ? ":" + failed.declineCode : "";
      show("error:" + answer.error.code + decline + ":" + answer.error.message);
    });
  };
} else {
  var elements = stripe.elements({
    clientSecret: data.secret, locale: data.locale, appearance: {}
  });
  element = elements.create("payment");
  confirm = function () {
    return stripe.confirmSetup({
      elements: elements, confirmParams: { return_url: location.origin + "/done" },
      redirect: "if_required"
    }).then(function (answer) {
      show(answer.error ? "error:" + answer.error.code + ":" + answer.error.message
        : "saved:" + answer.setupIntent.status);
    });
  };
}
element.on("ready", function () { document.body.setAttribute("data-ready", "yes"); });
element.on("change", function (event) {
  document.body.setAttribute("data-complete", String(event.complete));
});
element.mount("#payment-element");
document.getElementById("pay").addEventListener("click", function () {
  show("");
  confirm();
});
"""


class Site:
    """The newsroom's page, on its own origin, allowing only the emulator's origin."""

    def __init__(self, emulator_url: str):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/page.js":
                    return self.send(PAGE_JS, "text/javascript")
                if parts.path == "/done":
                    return self.send("<!doctype html><title>Done</title><h1>Done</h1>")
                if parts.path != "/":
                    return self.send("Not found", "text/plain", 404)
                return self.send(site.html(query))

            def send(self, text, content_type="text/html", status=200):
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type + "; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Security-Policy", site.csp)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.emulator_url = emulator_url
        self.csp = (
            f"default-src 'self'; script-src 'self' {emulator_url}; frame-src {emulator_url}; "
            f"connect-src 'self' {emulator_url}; style-src 'self'; img-src 'self'; "
            "base-uri 'none'; form-action 'self'"
        )
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def html(self, q: dict) -> str:
        lang = q.get("locale", "en")
        direction = "rtl" if lang == "ar" else "ltr"
        return (
            f'<!doctype html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
            "<title>Support</title></head>"
            f'<body data-kind="{q["kind"]}" data-secret="{q["secret"]}" data-locale="{lang}" '
            f'data-redirect="{q.get("redirect", "")}">'
            '<p id="total"></p><div id="payment-element"></div>'
            '<button id="pay" type="button">Pay</button><p id="result" role="status"></p>'
            f'<script src="{self.emulator_url}/v3/stripe.js"></script>'
            '<script src="/page.js"></script></body></html>'
        )


@pytest.fixture
def site(emu):
    s = Site(emu.url)
    yield s
    s.server.shutdown()
    s.server.server_close()


@pytest.fixture
def csp_reports(page):
    """Console messages about the Content-Security-Policy (must stay empty)."""
    found = []
    page.on("console", lambda m: "Content Security Policy" in m.text and found.append(m.text))
    page.on("pageerror", lambda e: found.append(str(e)))
    return found


def open_session(page, sc, site, locale, mode="subscription", **query):
    make = subscription_params if mode == "subscription" else payment_params
    # Checkout has no Arabic locale: the page's Stripe.js is given the reader's language.
    params = make(locale="auto", ui_mode="elements")
    del params["success_url"], params["cancel_url"]
    params["return_url"] = site.url + "/done?session_id={CHECKOUT_SESSION_ID}"
    session = sc.v1.checkout.sessions.create(params=params)
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    page.goto(f"{site.url}/?kind=checkout&secret={session.client_secret}&locale={locale}{extra}")
    page.locator("body[data-ready=yes]").wait_for()
    return session, page.frame_locator("#payment-element iframe")


def pay(page, frame, card: str):
    frame.locator(f"#card-{card[-4:]}").click()
    page.locator("body[data-complete=true]").wait_for()
    page.click("#pay")


DECLINED = {"en": "Your card was declined.", "ar": "تم رفض بطاقتك."}
NUMBER_LABEL = {"en": "Card number", "ar": "رقم البطاقة"}


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_checkout_success_card(page, sc, emu, site, csp_reports, locale):
    session, frame = open_session(page, sc, site, locale)
    direction = "rtl" if locale == "ar" else "ltr"
    assert frame.locator("html").get_attribute("dir") == direction
    assert NUMBER_LABEL[locale] in frame.locator("label[for=number]").inner_text()
    assert page.locator("#total").inner_text() == "10.00 USD"
    pay(page, frame, "4242424242424242")
    page.locator("#result", has_text="paid:complete").wait_for()
    done = emu.get(session.id)
    assert done["status"] == "complete" and done["subscription"]
    assert csp_reports == []


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_checkout_decline_then_three_d_secure(page, sc, emu, site, csp_reports, locale):
    session, frame = open_session(page, sc, site, locale, mode="payment")
    assert page.locator("body").get_attribute("data-session-status") == "open"
    pay(page, frame, "4000000000000002")
    declined = f"error:paymentFailed:generic_decline:{DECLINED[locale]}"
    page.locator("#result", has_text=declined).wait_for()
    assert emu.get(session.id)["status"] == "open"
    pay(page, frame, "4000002500003155")
    frame.locator("#challenge").wait_for(state="visible")
    frame.locator("#tds-fail").click()
    page.locator("#result", has_text="error:paymentFailed:null:").wait_for()
    if locale == "ar":
        assert "تعذّر التحقق" in page.locator("#result").inner_text()
    assert emu.get(session.id)["status"] == "open"
    pay(page, frame, "4000002500003155")
    frame.locator("#tds-complete").click()
    page.locator("#result", has_text="paid:complete").wait_for()
    assert page.locator("body").get_attribute("data-session-status") == "complete"
    assert emu.get(session.id)["payment_status"] == "paid"
    assert csp_reports == []


def test_checkout_incomplete_card_and_redirect_to_return_url(page, sc, emu, site, csp_reports):
    session, frame = open_session(page, sc, site, "ar", redirect="always")
    page.click("#pay")
    page.locator("#result", has_text="error:null:رقم البطاقة غير مكتمل.").wait_for()
    assert frame.locator("#error").inner_text() == "رقم البطاقة غير مكتمل."
    pay(page, frame, "4242424242424242")
    page.wait_for_url(f"{site.url}/done?session_id={session.id}")
    assert emu.get(session.id)["status"] == "complete"
    assert csp_reports == []


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_setup_intent_confirm(page, sc, emu, site, csp_reports, locale):
    customer = sc.v1.customers.create(params={"email": "rana@example.com"})
    seti = sc.v1.setup_intents.create(params={"customer": customer.id, "usage": "off_session"})
    page.goto(f"{site.url}/?kind=setup&secret={seti.client_secret}&locale={locale}")
    page.locator("body[data-ready=yes]").wait_for()
    frame = page.frame_locator("#payment-element iframe")
    pay(page, frame, "4000000000000002")
    page.locator("#result", has_text=f"error:card_declined:{DECLINED[locale]}").wait_for()
    pay(page, frame, "4000002500003155")
    frame.locator("#tds-complete").click()
    page.locator("#result", has_text="saved:succeeded").wait_for()
    methods = sc.v1.payment_methods.list(params={"customer": customer.id}).data
    assert [pm.card.last4 for pm in methods] == ["3155"]
    assert csp_reports == []
