"""Mail to supporters: an SMTP transport, message building and the outbox.

The ledger never sends mail itself: it records an `OutboundEmail` row (keyed so
a redelivered event cannot add a second one) and `outbox.send_due()` turns
rows into messages. A mail failure is recorded on its row and retried later;
it never fails the webhook or page that triggered it.
"""
