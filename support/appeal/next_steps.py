"""What the thanks page offers next: back to the article, sharing the appeal with a
sentence, and after a one-time gift, monthly (a ready monthly gift of a preset near a
share of it, and the appeal set to monthly)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import url_for
from flask_babel import gettext as _

from support import gift_links
from support.appeal.ready_checkout import ReadyGift
from support.i18n import newsroom_name
from support.models import CheckoutAttempt
from support.money import to_major
from support.urls import public_url


def gift_before_fees(attempt: CheckoutAttempt) -> int:
    """What the reader chose to give: the charge, less the fee they covered, if they did."""
    return gift_links.gift_before_fees(attempt.amount, attempt.cover_fees)


def monthly_gift(attempt: CheckoutAttempt) -> ReadyGift | None:
    """After a one-time gift, the monthly gift offered instead (`SUPPORT_MONTHLY_OFFER_SHARE`
    of it, as the nearest preset), covering the fee if the gift did; else None."""
    if attempt.frequency != "once":
        return None
    amount = gift_links.monthly_offer(gift_before_fees(attempt), attempt.currency)
    if amount is None:
        return None
    return ReadyGift(amount, attempt.currency, "month", attempt.cover_fees)


def monthly_offer_url(attempt: CheckoutAttempt, source: str | None) -> str | None:
    """The appeal preselected with the same gift, monthly; None after a recurring gift."""
    if attempt.frequency != "once":
        return None
    major = to_major(gift_before_fees(attempt), attempt.currency)
    args = {
        "amount": f"{major.normalize():f}",
        "frequency": "month",
        "currency": attempt.currency,
    }
    if attempt.cover_fees:
        args["cover_fees"] = "1"
    if source:
        args["source"] = source
    for key in ("campaign", "variant"):
        if getattr(attempt, key):
            args[key] = getattr(attempt, key)
    return url_for("appeal.appeal", lang=attempt.lang) + "?" + urlencode(args)


def share_mail_url(body: str, subject: str) -> str:
    """A `mailto:` link that starts a mail with `body`, on the reader's device."""
    # quote, not quote_plus: mail programs show a "+" for a space literally.
    return "mailto:?" + urlencode({"subject": subject, "body": body}, quote_via=quote)


def share_offer(attempt: CheckoutAttempt) -> dict[str, str]:
    """What the reader may pass on (in the page's language): a sentence and the appeal's
    address, for the device's share sheet (share.js), and the same in a mail without it."""
    newsroom = newsroom_name(attempt.lang)
    text = _(
        "I have just supported independent journalism at %(newsroom)s. You can too:",
        newsroom=newsroom,
    )
    url = public_url("appeal.appeal", lang=attempt.lang)
    subject = _("Support independent journalism at %(newsroom)s", newsroom=newsroom)
    return {
        "text": text,
        "url": url,
        "title": subject,
        "mail": share_mail_url(f"{text} {url}", subject),
    }
