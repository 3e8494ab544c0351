"""What the checkout tests share: the appeal form, submitting a choice, the sessions at Stripe."""

import re

import requests

from tests.conftest import form_tokens


def appeal_form(client, lang="en", query=""):
    """Fetch the appeal page; return its hidden tokens."""
    return form_tokens(client.get(f"/{lang}/{query}").get_data(as_text=True))


def submit(client, lang="en", tokens=None, **fields):
    tokens = tokens if tokens is not None else appeal_form(client, lang)
    data = {"amount": "1", "frequency": "month", "currency": "usd", **tokens, **fields}
    return client.post(f"/{lang}/checkout", data=data)


def sessions(emulator):
    """Checkout Sessions the emulator holds, each with what was asked of it."""
    found = emulator.state()["objects"].get("checkout.session", [])
    for session in found:
        session["asked"] = emulator.store.extra[session["id"]]
    return found


def give_over_http(
    base: str,
    lang: str,
    email: str,
    amount: str = "5",
    name: str = "Reader",
    http: requests.Session | None = None,
    frequency: str = "month",
    **fields,
) -> str:
    """A gift (monthly unless `frequency` says) through the live appeal and the emulator's
    hosted Checkout (the appeal posts to it, without the pay page's `ui` field), from
    `http` (a browser of its own), with any more of the appeal's `fields`; the Checkout
    Session id."""
    http = http or requests.Session()
    appeal = http.get(f"{base}/{lang}/", timeout=10)
    form = {"amount": amount, "frequency": frequency, "currency": "usd", **fields}
    form.update(form_tokens(appeal.text))
    checkout = http.post(f"{base}/{lang}/checkout", data=form, allow_redirects=False, timeout=30)
    assert checkout.status_code == 303, checkout.text[:300]
    paid = http.post(
        checkout.headers["Location"],
        data={"action": "pay", "email": email, "name": name},
        allow_redirects=False,
        timeout=30,
    )
    assert paid.status_code == 303
    return re.search(r"cs_test_\w+", paid.headers["Location"]).group(0)
