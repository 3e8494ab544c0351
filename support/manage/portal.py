"""Spending a manage link, and opening Stripe's Billing Portal for a proven customer.

A mailed link proves the address it was mailed to: spending it (a POST; mail
scanners only GET) opens a supporter session (support/supporter_access.py).
A thanks-page link works only in the browser that paid, for that payment's
own customer, and opens that customer's Billing Portal. Either way a link
works once.
"""

from __future__ import annotations

from flask import url_for

from support import stripe_api
from support.extensions import db
from support.manage import single_use, supporter_access
from support.manage.done import return_token
from support.models import CheckoutAttempt, Supporter
from support.portal_links import ManageLink, can_manage, make_token, public_url


class Refused(Exception):
    """A genuine link that opens nothing; `reason` names the page to show:
    "used" (already used), "elsewhere" (a thanks link in another browser) or
    "invalid" (no one to manage any more)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def portal_session_url(supporter: Supporter, lang: str) -> str:
    """A fresh Billing Portal URL for the supporter's own Stripe customer.

    Call only with a supporter `supporter_access` allowed. Raises
    `stripe_api.StripeUnavailable` (or `StripeNotFound`) when Stripe does not open one.
    """
    customer_id = supporter.stripe_customer_id
    # Back to a page saying whether anything changed, and showing the gifts as they stand.
    back = public_url("manage.done", lang=lang, r=return_token(supporter.id))
    db.session.rollback()  # no transaction stays open while Stripe answers
    session = stripe_api.create_billing_portal_session(
        customer_id,
        return_url=back,
        # The portal has no Arabic either: "auto" follows the reader's browser.
        locale="en" if lang == "en" else "auto",
    )
    return session.url


def check_link(link: ManageLink) -> None:
    """Raise `Refused` if the link cannot be spent here; spends nothing (for GET)."""
    if link.checkout is not None:
        if supporter_access.paying_supporter(link.checkout) is None:
            raise Refused("elsewhere")
    elif not can_manage(db.session.get(Supporter, link.supporter_id)):
        raise Refused("invalid")
    if single_use.is_used(link.nonce):
        raise Refused("used")


def spend_link(link: ManageLink) -> str:
    """Use the link up, open a supporter session, and say where to send the browser
    next: the account page. A mailed link's session covers every gift under the
    address; a thanks link's, the paying customer's alone. Raises `Refused`.
    """
    check_link(link)
    if not single_use.claim(link.nonce):
        raise Refused("used")
    if link.checkout is None:
        supporter = db.session.get(Supporter, link.supporter_id)
        supporter_access.open_session(supporter, link.lang)
    else:
        supporter = supporter_access.paying_supporter(link.checkout)
        supporter_access.open_session(supporter, link.lang, customer_only=True)
    return url_for("account.account", lang=link.lang)


def thanks_manage_url(attempt: CheckoutAttempt) -> str:
    """The thanks page's "manage my support" link for this checkout.

    The browser that paid, within a day of the payment the ledger recorded,
    gets a single-use link to the account page for its own customer. Anyone else
    holding the thanks URL (a history, a shared screen) gets the manage page,
    which mails a link to the address on record.
    """
    supporter = supporter_access.paying_supporter(attempt.session_id)
    if supporter is not None:
        token = make_token(supporter.id, attempt.lang, "thanks", attempt.session_id)
        return url_for("manage.portal", token=token)
    return url_for("manage.request_link", lang=attempt.lang)
