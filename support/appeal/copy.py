"""The appeal's own words, used when no campaign runs (and copied into new campaigns)."""

from __future__ import annotations

from flask_babel import gettext as _


def default_appeal(amount: str) -> dict[str, str]:
    """Headline and body in the current locale; paragraphs are separated by a blank line."""
    return {
        "headline": _("%(amount)s a month makes a difference", amount=amount),
        "body": _(
            "We are an independent newsroom. No owner, party or advertiser tells us what "
            "to write: our readers keep us going."
        )
        + "\n\n"
        + _(
            "Your support pays for reporting that takes weeks, for fact-checking, and for "
            "keeping every article free to read for those who cannot pay."
        ),
    }
