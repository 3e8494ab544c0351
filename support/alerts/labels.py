"""Words for frequencies and cancellation reasons in alerts and the digest, as staff read them.

The same messages as the staff supporter page's (one translation each); kept here
so alerts, applied inside the worker, import nothing of the staff area.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FREQUENCY_LABELS = {
    "month": _l("monthly"),
    "year": _l("yearly"),
    "once": _l("one-time"),
}
# Stripe's `cancellation_details.feedback` values.
REASON_LABELS = {
    "too_expensive": _l("cannot afford it"),
    "unused": _l("does not read enough"),
    "low_quality": _l("unhappy with the journalism"),
    "switched_service": _l("supports in another way"),
    "customer_service": _l("payment trouble"),
    "other": _l("another reason"),
    "missing_features": _l("missing features"),
    "too_complex": _l("too complex"),
}
LANGUAGE_LABELS = {"en": _l("English"), "ar": _l("Arabic")}


def frequency(code: str | None) -> str:
    return str(FREQUENCY_LABELS.get(code or "", code or "?"))


def reason(code: str | None) -> str:
    """The reason chosen, or "no reason given"."""
    if not code:
        return str(_l("no reason given"))
    return str(REASON_LABELS.get(code, code))


def language(code: str | None) -> str:
    return str(LANGUAGE_LABELS.get(code or "", code or "?"))
