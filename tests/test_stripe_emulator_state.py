"""Stripe emulator state kept in a file: a restarted `make run` still knows its customers."""

import subprocess
import sys
from pathlib import Path

import pytest
import stripe

from devtools.stripe_emulator import Emulator
from tests.helpers.emulator import subscription_params

ROOT = Path(__file__).resolve().parent.parent


def start_cli(state_file: Path) -> tuple[subprocess.Popen, str]:
    """The emulator as `make run` starts it, with a state file; returns it and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.stripe_emulator", "--port", "0",
         "--state-file", str(state_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    line = proc.stdout.readline().strip()
    assert line.startswith("Stripe emulator listening on "), line
    return proc, line.rsplit(" ", 1)[1]


def stop(proc: subprocess.Popen) -> None:
    """Stop as Ctrl-C on `make run` does."""
    proc.terminate()
    assert proc.wait(timeout=5) == 0


@pytest.mark.slow
def test_a_customer_survives_a_restart(tmp_path):
    state = tmp_path / "instance" / "stripe-emulator.json"
    proc, url = start_cli(state)
    try:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": url})
        customer = client.v1.customers.create(params={"email": "kept@example.com"})
    finally:
        stop(proc)
    proc, url = start_cli(state)
    try:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": url})
        assert client.v1.customers.retrieve(customer.id).email == "kept@example.com"
        # And the portal opens for that customer, as the manage link asks.
        portal = client.v1.billing_portal.sessions.create(
            params={"customer": customer.id, "return_url": "http://support.test/en/"}
        )
        assert portal.customer == customer.id
    finally:
        stop(proc)


@pytest.mark.slow
def test_a_paid_subscription_and_its_numbering_survive(tmp_path):
    state = tmp_path / "stripe.json"
    with Emulator(state_file=state) as first:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": first.url})
        session = client.v1.checkout.sessions.create(params=subscription_params())
        first.pay(session.id)
        first.persist()
        sub_id = first.get(session.id)["subscription"]
        [invoice] = first.state()["objects"]["invoice"]
    with Emulator(state_file=state) as second:
        assert second.get(sub_id)["status"] == "active"
        renewed = second.renew(sub_id)
        assert renewed["status"] == "active"
        numbers = [i["number"] for i in second.state()["objects"]["invoice"]]
        assert numbers[0] == invoice["number"] and len(set(numbers)) == 2


def test_reset_empties_the_file_and_memory_is_the_default(tmp_path):
    state = tmp_path / "stripe.json"
    with Emulator(state_file=state) as emu:
        stripe.StripeClient("sk_test_x", base_addresses={"api": emu.url}).v1.customers.create()
        emu.reset()
    with Emulator(state_file=state) as emu:
        assert emu.state()["objects"] == {}
    with Emulator() as emu:
        assert emu.state_file is None


@pytest.mark.slow
def test_a_damaged_state_file_is_named(tmp_path):
    state = tmp_path / "stripe.json"
    state.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "devtools.stripe_emulator", "--port", "0",
         "--state-file", str(state)],
        cwd=ROOT, capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    assert result.returncode == 2 and "stripe.json" in result.stderr


@pytest.fixture(autouse=True)
def _no_global_stripe_key(monkeypatch):
    """The tests pass keys to their own clients."""
    monkeypatch.setattr(stripe, "api_key", None)
