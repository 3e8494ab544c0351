"""Stripe emulator state kept in a file: a restarted `make run` still knows its customers."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import stripe

from devtools.stripe_emulator import Emulator
from devtools.stripe_emulator.store import Store
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


@pytest.mark.slow
def test_ctrl_c_then_sigterm_stops_quietly_and_keeps_the_state(tmp_path):
    """Ctrl-C reaches the emulator, and `make run` may ask again with SIGTERM: one quiet
    stop, no traceback, and a complete state file."""
    state = tmp_path / "stripe.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.stripe_emulator", "--port", "0",
         "--state-file", str(state)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = proc.stdout.readline().strip()
    url = line.rsplit(" ", 1)[1]
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": url})
    for number in range(20):
        client.v1.customers.create(params={"email": f"reader{number}@example.com"})
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGTERM)
    _, errors = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors
    saved = json.loads(state.read_text())
    assert sum(o["object"] == "customer" for o in saved["objects"].values()) == 20
    assert not state.with_name("stripe.json.tmp").exists()


def test_a_save_cut_short_leaves_the_last_complete_state(tmp_path, monkeypatch):
    state = tmp_path / "stripe.json"
    store = Store()
    store.add({"id": "cus_first", "object": "customer"})
    store.save(state)
    before = state.read_text()
    store.add({"id": "cus_second", "object": "customer"})

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.save(state)
    assert state.read_text() == before
    assert not state.with_name("stripe.json.tmp").exists()


@pytest.fixture(autouse=True)
def _no_global_stripe_key(monkeypatch):
    """The tests pass keys to their own clients."""
    monkeypatch.setattr(stripe, "api_key", None)
