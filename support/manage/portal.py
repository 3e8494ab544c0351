"""Opening a supporter's Stripe Billing Portal from a valid link."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for

from support import stripe_api
from support.extensions import db
from support.models import CheckoutAttempt, Supporter, utcnow
from support.portal_links import ManageLink, can_manage, make_token, public_url

# The thanks page links straight to the portal only this long after the payment.
THANKS_WINDOW = timedelta(days=1)


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


def thanks_manage_url(attempt: CheckoutAttempt) -> str:
    """The thanks page's "manage my support" link for this checkout.

    Once the ledger has completed the attempt (and so knows the supporter), a
    signed link opens the portal directly; otherwise, or long after the gift
    (a thanks URL can linger in a browser's history), the manage page.
    """
    completed = attempt.completed_at
    if completed is not None and attempt.supporter_id and utcnow() - completed < THANKS_WINDOW:
        supporter = db.session.get(Supporter, attempt.supporter_id)
        if can_manage(supporter):
            return url_for("manage.portal", token=make_token(supporter.id, attempt.lang, "thanks"))
    return url_for("manage.request_link", lang=attempt.lang)
