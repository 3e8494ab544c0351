"""Opening a supporter's Stripe Billing Portal from a valid link."""

from __future__ import annotations

from support import stripe_api
from support.extensions import db
from support.manage.link_requests import can_manage
from support.manage.links import ManageLink, public_url
from support.models import Supporter


def portal_session_url(link: ManageLink) -> str | None:
    """A fresh Billing Portal URL for the link's supporter; None if there is no one to manage.

    Raises `stripe_api.StripeUnavailable` when Stripe does not answer.
    """
    supporter = db.session.get(Supporter, link.supporter_id)
    if not can_manage(supporter):
        return None
    session = stripe_api.create_billing_portal_session(
        supporter.stripe_customer_id,
        return_url=public_url("appeal.appeal", lang=link.lang),
        # The portal has no Arabic either: "auto" follows the reader's browser.
        locale="en" if link.lang == "en" else "auto",
    )
    return session.url
