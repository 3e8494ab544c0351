"""What the campaign pages need beyond the store: the conflict note, the preview's data."""

from __future__ import annotations

import json

from flask_babel import gettext as _

from support.banner import content
from support.campaigns import store
from support.campaigns.document import changed_paths
from support.campaigns.live import LiveCampaign, effective_weights
from support.choices import LANGUAGES
from support.form_values import whole_number
from support.models import Campaign, utcnow
from support.staff.campaigns.labels import field_labels


def conflict_note(campaign: Campaign, base_version: int) -> str:
    """Who saved the campaign since `base_version`, when, and which fields they changed."""
    base = store.revision(campaign, base_version)
    changed = changed_paths(json.loads(base.document), store.editing(campaign)) if base else []
    return _(
        "%(who)s saved this campaign at %(time)s while you were editing. Your changes are "
        "below, not saved; the fields they changed: %(fields)s.",
        who=campaign.updated_by or _("Someone"),
        time=f"{campaign.updated_at:%Y-%m-%d %H:%M} UTC",
        fields=field_labels(changed),
    )


def base_version(form) -> int | None:
    """The version a submitted form was based on (None when missing or mangled)."""
    return whole_number(form.get("base_version"), 2**31 - 1)


def saved_note(campaign: Campaign) -> str:
    """What a save did: for a live campaign, a draft readers do not see yet."""
    if store.has_draft(campaign):
        return _(
            "Saved as a draft of the next version (version %(version)s). Readers still see "
            "the published version: preview the draft, then publish it.",
            version=campaign.version,
        )
    return _("Saved: version %(version)s.", version=campaign.version)


def as_running(campaign: Campaign) -> LiveCampaign:
    """The campaign as readers would get it if it ran now with the editor's latest
    version (a live campaign's draft), whatever its status."""
    doc = store.editing(campaign)
    return LiveCampaign(campaign.slug, doc, effective_weights(campaign, doc), utcnow())


def banner_previews(campaign: LiveCampaign) -> dict[str, list[dict]]:
    """Per language, each banner variant's content for banner.js (banner.json's shape,
    this campaign alone and only that variant, so every variant is shown)."""
    previews: dict[str, list[dict]] = {}
    for lang in LANGUAGES:
        full = content.preview(campaign, lang)
        shown = full["campaigns"][0]
        previews[lang] = [
            {
                "name": variant["name"],
                "content": json.dumps(
                    {**full, "campaigns": [{**shown, "prefixes": [], "variants": [variant]}]},
                    ensure_ascii=False,
                ),
            }
            for variant in shown["variants"]
        ]
    return previews
