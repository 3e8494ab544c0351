"""Paying on our own pay page (`/<lang>/pay/<cs_id>`): by test client and in Chromium.

The browser helpers drive the Payment Element the Stripe emulator's Stripe.js stand-in
mounts (its card form is an iframe with quick test-card buttons, see
devtools/stripe_emulator/README.md, "Elements and the Stripe.js stand-in").
"""

from __future__ import annotations

import re

from tests.helpers.card_frame import card_frame, fill_card
from tests.helpers.checkout import appeal_form

SUCCEEDS = "4242424242424242"
DECLINED = "4000000000000002"
THREE_D_SECURE = "4000002500003155"

PAY_PATH = re.compile(r"/(en|ar)/pay/(cs_test_[A-Za-z0-9]+)$")
THANKS_URL = re.compile(r"/(en|ar)/thanks\?session_id=cs_test_")


# --- test client ---------------------------------------------------------------------


def use_pay_page(app) -> None:
    """Take payment on our own pay page (the setting; the tests' default is hosted)."""
    app.config["SUPPORT_CHECKOUT_UI"] = "elements"


def start_on_pay_page(client, lang="en", tokens=None, **fields):
    """POST the appeal as a browser running appeal.js does (`ui=elements`)."""
    tokens = tokens if tokens is not None else appeal_form(client, lang)
    data = {"amount": "5", "frequency": "month", "currency": "usd", "ui": "elements"}
    return client.post(f"/{lang}/checkout", data={**data, **tokens, **fields})


def session_id_of(location: str) -> str:
    """The Checkout Session id in a pay page's URL."""
    found = PAY_PATH.search(location)
    assert found, f"not a pay page: {location}"
    return found.group(2)


# --- Chromium ------------------------------------------------------------------------


def collect_csp_violations(page) -> list[str]:
    """What Chromium reports blocked by a Content-Security-Policy on `page` from now on
    (and any uncaught script error); the list fills as the page runs."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and found.append(message.text),
    )
    page.on("pageerror", lambda error: found.append(f"script error: {error}"))
    return found


def choose_on_appeal(page, base_url: str, lang: str = "en", amount: str = "5", **choice) -> None:
    """Open the appeal, choose an amount (a preset, or typed as `other`) and frequency,
    optionally cover the fees and give an email, and press Continue."""
    page.goto(f"{base_url}/{lang}/")
    preset = page.locator(f'input[name="amount"][value="{amount}"]')
    if preset.count():
        preset.check(force=True)
    else:
        page.locator('input[name="amount"][value="other"]').check(force=True)
        page.fill("#amount_other", amount)
    page.locator(f'input[name="frequency"][value="{choice.get("frequency", "month")}"]').check(
        force=True
    )
    if choice.get("cover_fees"):
        page.locator('input[name="cover_fees"]').check()
    if choice.get("email"):
        page.fill("#email", choice["email"])
    page.locator(".appeal-form button[type=submit]").click()


def wait_for_pay_page(page) -> str:
    """Wait until the pay page's card form can take a payment; the session's id."""
    page.wait_for_url(PAY_PATH)
    page.locator("[data-pay-button]:not([disabled])").wait_for()
    return session_id_of(page.url)


def pay_with_card(page, card: str, email: str | None = None) -> None:
    """On a ready pay page: pick test card `card` in the Payment Element, fill the email
    when given (or when empty), and press the pay button.

    Leaves the page as the payment does: on its way to the thanks page, showing one of
    our messages, or (3-D Secure cards) showing the bank's step (`three_d_secure`).
    """
    email_field = page.locator("#pay-email")
    if email is not None or not email_field.input_value():
        email_field.fill(email or "reader@example.org")
    fill_card(page, card)
    page.locator("[data-pay-button]:not([disabled])").click()


def three_d_secure(page, complete: bool = True) -> None:
    """Answer the bank's 3-D Secure step shown in the card form."""
    frame = card_frame(page)
    frame.locator("#challenge").wait_for(state="visible")
    frame.locator("#tds-complete" if complete else "#tds-fail").click()


def pay_message(page) -> str:
    """The text of our message about the last attempt, once one shows."""
    alert = page.locator("[data-pay-messages]:not([hidden]) [data-message]:not([hidden])")
    alert.wait_for()
    return alert.inner_text()


def pay_on_pay_page(page, card: str = SUCCEEDS, email: str | None = None) -> str:
    """Pay the open pay page with `card` (3-D Secure completed when asked) and wait for
    the thanks page; the session's id."""
    session_id = wait_for_pay_page(page)
    pay_with_card(page, card, email)
    if card == THREE_D_SECURE:
        three_d_secure(page, complete=True)
    page.wait_for_url(THANKS_URL)
    return session_id
