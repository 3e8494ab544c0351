"""The baseline for bench/webhooks.py: a Flask endpoint that only verifies the signature.

Whatever the real endpoint costs beyond this (storing the event for the worker)
is the price of keeping every delivery; the ratio printed by the benchmark is that price.
"""

import os

import stripe
from flask import Flask, jsonify, request

app = Flask(__name__)
SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_bench")


@app.get("/healthz")
def healthz():
    """Ready."""
    return jsonify({"ok": True})


@app.post("/stripe/webhook")
def webhook():
    """200 for a good signature, 400 otherwise; nothing else."""
    try:
        stripe.WebhookSignature.verify_header(
            request.get_data(), request.headers.get("Stripe-Signature"), SECRET, tolerance=300
        )
    except stripe.SignatureVerificationError:
        return jsonify({"error": "bad signature"}), 400
    return jsonify({"status": "ok"})
