"""Opening a supporter's Stripe Billing Portal from a valid link, once."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for

from support import browser_checkouts, stripe_api
from support.extensions import db
from support.manage import single_use
from support.manage.done import return_token
from support.models import CheckoutAttempt, Supporter, utcnow
from support.portal_links import ManageLink, can_manage, make_token, public_url

# The thanks page links straight to the portal only this long after the payment.
THANKS_WINDOW = timedelta(days=1)


class Refused(Exception):
    """A genuine link that does not open the portal; `reason` names the page to show:
    "used" (already used), "elsewhere" (a thanks link in another browser) or
    "invalid" (no one to manage any more)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def portal_session_url(link: ManageLink) -> str | None:
    """A fresh Billing Portal URL for the link's supporter; None if there is no one to manage.

    Raises `stripe_api.StripeUnavailable` when Stripe does not answer.
    """
    supporter = db.session.get(Supporter, link.supporter_id)
    if not can_manage(supporter):
        return None
    customer_id = supporter.stripe_customer_id
    db.session.rollback()  # no transaction stays open while Stripe answers
    session = stripe_api.create_billing_portal_session(
        customer_id,
        # Back to a page saying the changes are saved, and showing the gifts as they stand.
        return_url=public_url("manage.done", lang=link.lang, r=return_token(link.supporter_id)),
        # The portal has no Arabic either: "auto" follows the reader's browser.
        locale="en" if link.lang == "en" else "auto",
    )
    return session.url


def open_portal(link: ManageLink) -> str:
    """Use the link up and return a fresh Billing Portal URL.

    Raises `Refused`, or `stripe_api.StripeUnavailable` with the link still unused.
    """
    if link.checkout is not None and not browser_checkouts.started_here(link.checkout):
        raise Refused("elsewhere")
    if not single_use.claim(link.nonce):
        raise Refused("used")
    try:
        url = portal_session_url(link)
    except stripe_api.StripeUnavailable:
        single_use.release(link.nonce)
        raise
    if url is None:
        raise Refused("invalid")
    return url


def thanks_manage_url(attempt: CheckoutAttempt, started_here: bool) -> str:
    """The thanks page's "manage my support" link for this checkout.

    Once the ledger has completed the attempt (and so knows the supporter), the
    browser that started the checkout (`started_here`) gets a signed link that
    opens the portal directly, once. Anyone else holding the thanks URL, or the
    reader long after the gift (a thanks URL can linger in a browser's
    history), gets the manage page, which mails a link.
    """
    completed = attempt.completed_at
    recent = completed is not None and utcnow() - completed < THANKS_WINDOW
    if started_here and recent and attempt.supporter_id:
        supporter = db.session.get(Supporter, attempt.supporter_id)
        if can_manage(supporter):
            token = make_token(supporter.id, attempt.lang, "thanks", attempt.session_id)
            return url_for("manage.portal", token=token)
    return url_for("manage.request_link", lang=attempt.lang)
