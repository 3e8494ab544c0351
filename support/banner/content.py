"""What the banner says: translated copy, A/B variants with weights, goal progress.

The same answer goes to every reader of a language (a CDN may cache it), so it
holds nothing about anyone. It is rendered once per language and process and
kept for `SUPPORT_BANNER_CACHE_SECONDS`, so `banner.json` costs a lookup.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from support import stats
from support.config import LANGUAGES
from support.formatting import format_money_major, format_number
from support.i18n import direction

CAMPAIGN = "banner"
DEFAULT_CACHE_SECONDS = 30


@dataclass(frozen=True)
class Rendered:
    """A language's banner content, serialized once, with its strong ETag."""

    content: dict
    body: bytes
    etag: str
    expires: float


def pick_lang(value: str | None) -> str:
    """A supported language; anything else falls back to English."""
    value = (value or "").strip().lower()[:2]
    return value if value in LANGUAGES else "en"


def variant_names() -> set[str]:
    """The names of the configured variants (what beacons may report)."""
    return {v["name"] for v in current_app.config["SUPPORT_BANNER_VARIANTS"]}


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


def _appeal_link(lang: str, variant: str, amount: Decimal | None = None) -> str:
    """An absolute link to the appeal; banner.js adds the article as `source`."""
    params = {"amount": str(amount), "frequency": "month"} if amount is not None else {}
    params.update(campaign=CAMPAIGN, variant=variant)
    return f"{current_app.config['SUPPORT_PUBLIC_URL']}/{lang}/?{urlencode(params)}"


def _variant(config: dict, lang: str, currency: str) -> dict:
    """One variant's copy and amount links in the current locale."""
    presets = current_app.config["SUPPORT_PRESETS"] or [Decimal(1)]
    amounts = [Decimal(str(a)) for a in config.get("amounts") or presets]
    copy = _copy(config["copy"], format_money_major(min(amounts), currency))
    for key in copy:
        if config.get(key):  # the newsroom's own words for this variant
            copy[key] = config[key][lang]
    return {
        "name": config["name"],
        "weight": config["weight"],
        **copy,
        "url": _appeal_link(lang, config["name"]),
        "amounts": [
            {
                "label": _("%(amount)s a month", amount=format_money_major(a, currency)),
                "url": _appeal_link(lang, config["name"], a),
            }
            for a in amounts
        ],
    }


def build(lang: str) -> dict:
    """The banner content for `lang`: copy, variants, goal, labels."""
    config = current_app.config
    currency = config["SUPPORT_CURRENCIES"][0]
    goal = config["SUPPORT_GOAL"]
    with force_locale(lang):
        content = {
            "lang": lang,
            "dir": direction(lang),
            "label": _("Support our journalism"),
            "dismiss": _("Hide this appeal"),
            # {n} is filled in by banner.js from the reader's own browser.
            "articles": _("Articles you have read this month: {n}"),
            "goal": None,
            "variants": [_variant(v, lang, currency) for v in config["SUPPORT_BANNER_VARIANTS"]],
        }
        supporters = stats.public_supporter_count() if goal else 0
        # Below SUPPORT_GOAL_MIN_SHOWN, "3 of 1,000" would discourage more than it invites.
        if goal and supporters >= config.get("SUPPORT_GOAL_MIN_SHOWN", 0):
            content["goal"] = {
                "supporters": supporters,
                "target": goal,
                "label": _(
                    "Supporters so far: %(count)s of %(goal)s",
                    count=format_number(supporters),
                    goal=format_number(goal),
                ),
            }
    return content


def rendered(lang: str) -> Rendered:
    """`build(lang)` as JSON bytes and ETag, from this process's short-lived cache."""
    cache: dict[str, Rendered] = current_app.extensions.setdefault("banner_content", {})
    now = time.monotonic()
    entry = cache.get(lang)
    if entry is None or entry.expires <= now:
        content = build(lang)
        body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
        ttl = current_app.config.get("SUPPORT_BANNER_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
        etag = hashlib.sha256(body).hexdigest()[:20]
        entry = Rendered(content=content, body=body, etag=etag, expires=now + ttl)
        cache[lang] = entry
    return entry


def choose_variant(variants: list[dict], wanted: str | None = None) -> dict:
    """The variant named `wanted`, else one drawn by weight (for the iframe page)."""
    for variant in variants:
        if variant["name"] == wanted:
            return variant
    return random.choices(variants, weights=[v["weight"] for v in variants])[0]
