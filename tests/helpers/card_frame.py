"""Driving the Payment Element of the emulator's Stripe.js stand-in in a browser.

The card form is an iframe the stand-in mounts in the page's element container.
`fill_card` types a test card into it (the quick choices for the cards it offers,
the fields for any other); `fill_and_confirm` then presses the page's own submit
button and, for a 3-D Secure card, answers the frame's challenge.
"""

from __future__ import annotations

# The cards the frame offers as one-click choices (`#card-4242` ...).
QUICK_CHOICES = ("4242424242424242", "4000000000000002", "4000002500003155")


def card_frame(page, container: str = "#payment-element"):
    """The card form's frame inside `container`."""
    return page.frame_locator(f"{container} iframe")


def fill_card(page, card: str, container: str = "#payment-element"):
    """Put test card `card` into the frame (expiry 12/34, CVC 123); the frame."""
    frame = card_frame(page, container)
    if card in QUICK_CHOICES:
        frame.locator(f"#card-{card[-4:]}").click()
    else:
        frame.locator("#number").fill(card)
        frame.locator("#expiry").fill("12 / 34")
        frame.locator("#cvc").fill("123")
    return frame


def fill_and_confirm(
    page,
    card: str,
    submit: str = "#card-submit",
    container: str = "#payment-element",
    three_d_secure: str | None = None,
):
    """Fill the frame with `card` and press `submit`; answer a 3-D Secure challenge with
    `three_d_secure` ("complete" or "fail") when the card asks for one. The frame."""
    frame = fill_card(page, card, container)
    page.locator(submit).click()
    if three_d_secure is not None:
        frame.locator("#challenge").wait_for(state="visible")
        frame.locator("#tds-complete" if three_d_secure == "complete" else "#tds-fail").click()
    return frame
