"""The parts of the webhook benchmark; `bench/webhooks.py` is its command."""
