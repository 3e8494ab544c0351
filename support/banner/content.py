"""What the banner says: the default campaign's translated copy, A/B variants with
weights and goal progress, and the campaigns running now with their targeting.

The same answer goes to every reader of a language (a CDN may cache it), so it
holds nothing about anyone. It is rendered once per language and process and
kept for `SUPPORT_BANNER_CACHE_SECONDS`, so `banner.json` costs a lookup.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from support.campaigns import live
from support.campaigns.document import DEFAULT_SLUG
from support.campaigns.live import LiveCampaign
from support.choices import LANGUAGES
from support.formatting import format_money_major, format_number
from support.i18n import direction
from support.process_cache import ProcessCache
from support.stats import figures as stats
from support.urls import public_url

# The default campaign's slug (support/campaigns/document.py).
CAMPAIGN = DEFAULT_SLUG


@dataclass(frozen=True)
class Rendered:
    """A language's banner content, serialized once, with its strong ETag."""

    content: dict
    body: bytes
    etag: str


# Per language; forgotten with the live campaigns it shows (`live.forget()`).
RENDERED: ProcessCache[Rendered] = ProcessCache("banner_content", follows=live.SNAPSHOTS)


def pick_lang(value: str | None) -> str:
    """A supported language; anything else falls back to English."""
    value = (value or "").strip().lower()[:2]
    return value if value in LANGUAGES else "en"


def known_variant(campaign: str, variant: str) -> bool:
    """Whether a beacon names a variant readers may have been shown."""
    if campaign == CAMPAIGN:
        return variant in {v["name"] for v in current_app.config["SUPPORT_BANNER_VARIANTS"]}
    return live.known_variant(campaign, variant)


def _copy(name: str, amount: str) -> dict[str, str]:
    """One of the built-in, translated copy sets (see `config.BANNER_COPIES`)."""
    if name == "goal":
        return {
            "headline": _("Independent journalism needs you"),
            "text": _(
                "We are paid for by our readers, not by advertisers or governments. "
                "Join them from %(amount)s a month.",
                amount=amount,
            ),
            "cta": _("Become a supporter"),
        }
    return {
        "headline": _("Support us"),
        "text": _("%(amount)s a month makes a difference.", amount=amount),
        "cta": _("Click here to support"),
    }


def _appeal_link(
    lang: str, variant: str, campaign: str, amount=None, frequency: str = "month"
) -> str:
    """An absolute link to the appeal; banner.js adds the article as `source`."""
    params = {"amount": str(amount), "frequency": frequency} if amount is not None else {}
    params.update(campaign=campaign, variant=variant)
    return public_url("appeal.appeal", lang=lang, **params)


def _amount_label(amount: str, frequency: str) -> str:
    if frequency == "year":
        return _("%(amount)s a year", amount=amount)
    if frequency == "once":
        return _("Give %(amount)s", amount=amount)
    return _("%(amount)s a month", amount=amount)


def _amounts(lang: str, variant: str, campaign: str, amounts, currency: str, frequency: str):
    return [
        {
            # Buttons: the compact form ("5 US$"), as on the appeal.
            "label": _amount_label(format_money_major(a, currency, compact=True), frequency),
            "url": _appeal_link(lang, variant, campaign, a, frequency),
        }
        for a in amounts
    ]


def _settings_amounts(config: dict) -> list[Decimal]:
    presets = current_app.config["SUPPORT_PRESETS"] or [Decimal(1)]
    return [Decimal(str(a)) for a in config.get("amounts") or presets]


def variant_copy(config: dict, lang: str, currency: str) -> dict[str, str]:
    """A settings variant's headline, text and call to action in the current locale."""
    copy = _copy(config["copy"], format_money_major(min(_settings_amounts(config)), currency))
    for key in copy:
        if config.get(key):  # the newsroom's own words for this variant
            copy[key] = config[key][lang]
    return copy


def _variant(config: dict, lang: str, currency: str) -> dict:
    """One of the settings' variants (the default campaign), in the current locale."""
    return {
        "name": config["name"],
        "weight": config["weight"],
        **variant_copy(config, lang, currency),
        "url": _appeal_link(lang, config["name"], CAMPAIGN),
        "amounts": _amounts(
            lang, config["name"], CAMPAIGN, _settings_amounts(config), currency, "month"
        ),
    }


def _campaign(campaign: LiveCampaign, lang: str, currency: str) -> dict:
    """A running campaign as the banner needs it: targeting, goal and variants in `lang`."""
    doc = campaign.doc
    frequency = doc["default_frequency"]
    amounts = doc["presets"].get(currency) or current_app.config["SUPPORT_PRESETS"]
    variants = [
        {
            "name": v["name"],
            "weight": campaign.weights.get(v["name"], v["weight"]),
            "headline": v["headline"][lang],
            "text": v["text"][lang],
            "cta": v["cta"][lang],
            "url": _appeal_link(lang, v["name"], campaign.slug),
            "amounts": _amounts(lang, v["name"], campaign.slug, amounts[:3], currency, frequency),
        }
        for v in doc["banner"]["variants"]
    ]
    goal = doc["goal"]
    return {
        "slug": campaign.slug,
        "prefixes": campaign.prefixes,
        "goal": _goal(stats.campaign_supporter_count(campaign.slug), goal["supporters"])
        if goal
        else None,
        "variants": variants,
    }


def _goal(supporters: int, target: int) -> dict | None:
    """Goal progress for the banner; None below `SUPPORT_GOAL_MIN_SHOWN` supporters, where
    "3 of 1,000" would discourage more than it invites."""
    if supporters < current_app.config["SUPPORT_GOAL_MIN_SHOWN"]:
        return None
    return {
        "supporters": supporters,
        "target": target,
        # The noun follows the goal, so the goal picks its plural form.
        "label": ngettext(
            "%(count)s of %(goal)s supporter so far",
            "%(count)s of %(goal)s supporters so far",
            target,
            count=format_number(supporters),
            goal=format_number(target),
        ),
    }


def build(lang: str) -> dict:
    """The banner content for `lang`: the default campaign's copy, variants and goal,
    and the campaigns running now (`campaigns`, in the order banner.js tries them)."""
    config = current_app.config
    currency = config["SUPPORT_CURRENCIES"][0]
    goal = config["SUPPORT_GOAL"]
    with force_locale(lang):
        return {
            "lang": lang,
            "dir": direction(lang),
            "label": _("Support our journalism"),
            "dismiss": _("Hide this appeal"),
            # {n} is filled in by banner.js from the reader's own browser.
            "articles": _("Articles you have read this month: {n}"),
            "slug": CAMPAIGN,
            "goal": _goal(stats.public_supporter_count(), goal) if goal else None,
            "variants": [_variant(v, lang, currency) for v in config["SUPPORT_BANNER_VARIANTS"]],
            "campaigns": [
                _campaign(c, lang, currency)
                for c in live.running(lang)
                if c.doc["banner"]["variants"]
            ],
        }


def preview(campaign: LiveCampaign, lang: str) -> dict:
    """`build(lang)` with `campaign` as the only campaign, draft or not (the staff preview)."""
    content = build(lang)
    with force_locale(lang):
        currency = current_app.config["SUPPORT_CURRENCIES"][0]
        content["campaigns"] = [_campaign(campaign, lang, currency)]
    return content


def _render(lang: str) -> Rendered:
    content = build(lang)
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return Rendered(content=content, body=body, etag=hashlib.sha256(body).hexdigest()[:20])


def rendered(lang: str) -> Rendered:
    """`build(lang)` as JSON bytes and ETag, from this process's short-lived cache."""
    ttl = current_app.config["SUPPORT_BANNER_CACHE_SECONDS"]
    return RENDERED.get(
        lambda: _render(lang),
        seconds=ttl,
        # A campaign starting or ending sooner makes the content lapse then.
        until=lambda _rendered: live.snapshot().expires,
        key=lang,
    )


def choose_campaign(content: dict, source: str) -> dict:
    """What banner.js would show on the article `source`: the first running campaign
    aimed at it (or at every article), else the default campaign (`content` itself)."""
    for campaign in content["campaigns"]:
        prefixes = campaign["prefixes"]
        if not prefixes or any(source.startswith(p) for p in prefixes):
            return campaign
    return content


def choose_variant(variants: list[dict], wanted: str | None = None) -> dict:
    """The variant named `wanted`, else one drawn by weight (for the iframe page)."""
    for variant in variants:
        if variant["name"] == wanted:
            return variant
    return random.choices(variants, weights=[v["weight"] for v in variants])[0]
