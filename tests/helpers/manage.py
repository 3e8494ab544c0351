"""Supporters the manage tests need: ones with a real customer in the emulator."""

from __future__ import annotations

from support import stripe_api
from support.extensions import db
from support.models import Supporter


def customer_supporter(email="layla@example.com", lang="en"):
    """A supporter with a real customer in the emulator."""
    customer = stripe_api.client().v1.customers.create(params={"email": email})
    row = Supporter(email=email, name="Layla", lang=lang, stripe_customer_id=customer.id)
    db.session.add(row)
    db.session.commit()
    return row
