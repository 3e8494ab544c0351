"""What the checkout tests share: the appeal form, submitting a choice, the sessions at Stripe."""

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
