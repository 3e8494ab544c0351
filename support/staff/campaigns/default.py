"""The default campaign: what the settings describe, shown when no campaign runs.

Readers meet it through the built-in, translated copy (`appeal/copy.py`,
`banner/content.py`); here it is written out as a document, so staff can see it
beside the others and start a new campaign from it.
"""

from __future__ import annotations

from decimal import Decimal

from flask import current_app
from flask_babel import force_locale

from support.appeal.copy import default_appeal
from support.banner.content import variant_copy
from support.campaigns.document import DEFAULT_SLUG, to_json
from support.choices import LANGUAGES
from support.formatting import format_money_major


def default_document() -> dict:
    """The settings' appeal and banner variants in both languages, as a campaign document."""
    config = current_app.config
    currency = config["SUPPORT_CURRENCIES"][0]
    presets = config["SUPPORT_PRESETS"] or [Decimal(1)]
    appeal, texts = {}, {}
    for lang in LANGUAGES:
        with force_locale(lang):
            appeal[lang] = default_appeal(format_money_major(presets[0], currency))
            texts[lang] = [
                variant_copy(v, lang, currency) for v in config["SUPPORT_BANNER_VARIANTS"]
            ]
    variants = [
        {
            "name": variant["name"],
            "weight": variant["weight"],
            **{
                key: {lang: texts[lang][index][key] for lang in LANGUAGES}
                for key in ("headline", "text", "cta")
            },
        }
        for index, variant in enumerate(config["SUPPORT_BANNER_VARIANTS"])
    ]
    goal = config["SUPPORT_GOAL"]
    return to_json(
        {
            "slug": DEFAULT_SLUG,
            "name": "Default (from settings)",
            "status": "live",
            "starts_at": None,
            "ends_at": None,
            "goal": {"supporters": goal} if goal else None,
            "presets": {currency: [int(p) if p == p.to_integral_value() else p for p in presets]},
            "default_frequency": "month",
            "appeal": appeal,
            "banner": {"optimise": False, "variants": variants},
            "targeting": {"langs": list(LANGUAGES), "url_prefixes": []},
        }
    )
