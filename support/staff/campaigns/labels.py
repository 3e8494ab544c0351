"""Words the campaign pages use: field names, actions and where a campaign stands."""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from support.models import Campaign

FIELDS = {
    "name": _l("Name"),
    "slug": _l("Slug"),
    "status": _l("Status"),
    "starts_at": _l("Starts"),
    "ends_at": _l("Ends"),
    "goal": _l("Goal"),
    "presets": _l("Preset amounts"),
    "default_frequency": _l("Default frequency"),
    "appeal.headline": _l("Appeal headline"),
    "appeal.body": _l("Appeal text"),
    "banner.optimise": _l("Optimise the weights"),
    "banner.variants": _l("Banner variants"),
    "targeting.langs": _l("Languages"),
    "targeting.url_prefixes": _l("Article addresses"),
    "variant.name": _l("name"),
    "variant.weight": _l("weight"),
    "variant.headline": _l("headline"),
    "variant.text": _l("text"),
    "variant.cta": _l("button"),
}
LANGUAGE_NAMES = {"en": _l("English"), "ar": _l("Arabic")}
ACTIONS = {
    "created": _l("created"),
    "edited": _l("edited"),
    "drafted": _l("draft saved"),
    "discarded": _l("draft discarded"),
    "published": _l("published"),
    "ended": _l("ended"),
    "unpublished": _l("unpublished"),
    "duplicated": _l("duplicated"),
    "reverted": _l("reverted"),
    "imported": _l("imported"),
}
_VARIANT = re.compile(r"^banner\.variants\[(\d+)\]\.?([a-z]*)\.?([a-z]*)")


def field_label(path: str) -> str:
    """A document path as the editor names it: "Banner variant 2: button (Arabic)"."""
    match = _VARIANT.match(path)
    if match:
        number, key, lang = int(match.group(1)) + 1, match.group(2), match.group(3)
        label = _("Banner variant %(number)s", number=number)
        if key:
            label += ": " + str(FIELDS.get(f"variant.{key}", key))
        return label + (f" ({LANGUAGE_NAMES[lang]})" if lang in LANGUAGE_NAMES else "")
    parts = path.split(".")
    if parts[0] == "appeal" and len(parts) == 3:
        lang = LANGUAGE_NAMES.get(parts[1], parts[1])
        return f"{FIELDS.get('appeal.' + parts[2], path)} ({lang})"
    key = re.sub(r"\[\d+\]$", "", path)
    for candidate in (key, parts[0]):
        if candidate in FIELDS:
            return str(FIELDS[candidate])
    return path


def field_labels(paths: list[str]) -> str:
    """Several paths as one readable list, each field once."""
    labels = list(dict.fromkeys(field_label(p) for p in paths))
    return ", ".join(labels) if labels else _("none")


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def stage(campaign: Campaign, now: datetime) -> str:
    """Where a campaign stands: draft, scheduled, running or ended."""
    if campaign.status == "draft":
        return "draft"
    if campaign.status == "ended" or (campaign.ends_at and campaign.ends_at <= now):
        return "ended"
    if campaign.starts_at and campaign.starts_at > now:
        return "scheduled"
    return "running"


STAGES = {
    "draft": _l("draft"),
    "scheduled": _l("scheduled"),
    "running": _l("running"),
    "ended": _l("ended"),
}
