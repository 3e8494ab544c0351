"""A campaign as a document: the JSON shape of import, export and every saved revision.

    {"slug", "name", "status", "starts_at", "ends_at", "goal": {"supporters": N} | null,
     "presets": {"usd": [1, 5, 10]}, "default_frequency",
     "appeal": {"en": {"headline", "body"}, "ar": {...}},
     "banner": {"optimise": bool, "variants": [{"name", "weight",
                "headline": {"en", "ar"}, "text": {...}, "cta": {...}}]},
     "targeting": {"langs": [...], "url_prefixes": [...]}}

`validate` checks a document as given (from a file or the staff form) and returns
it normalised, with every problem found, each at its path ("banner.variants[1].cta.ar").
Copy is plain text: line breaks are kept, other control characters are refused, and
it is always escaped or set as text wherever it is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l

from support.attribution import clean_source
from support.choices import FREQUENCIES, LANGUAGES
from support.json_input import choice, is_plain_text, key_path
from support.money import MINIMUM_GIFT, AmountError, parse_amount, to_major

STATUSES = ("draft", "live", "ended")
# The settings' variants form the default campaign; its slug is what banner links
# carried before campaigns existed, so earlier counts and gifts stay with it.
DEFAULT_SLUG = "banner"
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")
VARIANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
MAX_VARIANTS = 6
MAX_PRESETS = 6
MAX_PREFIXES = 20
MAX_GOAL = 10_000_000
MAX_WEIGHT = 100
# The longest text each field takes, in characters.
LIMITS = {
    "name": 100,
    "appeal.headline": 120,
    "appeal.body": 2000,
    "variant.headline": 120,
    "variant.text": 300,
    "variant.cta": 40,
    "url_prefix": 300,
}
KEYS = {
    "slug",
    "name",
    "status",
    "starts_at",
    "ends_at",
    "goal",
    "presets",
    "default_frequency",
    "appeal",
    "banner",
    "targeting",
}
VARIANT_KEYS = {"name", "weight", "headline", "text", "cta"}
VARIANT_TEXTS = ("headline", "text", "cta")


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where in the document."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class Checker:
    """Collects problems while a document is read field by field."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message, **values) -> None:
        self.problems.append(Problem(path, str(message) % values if values else str(message)))

    def text(self, value, path: str, limit: int, required: bool = False) -> str:
        """Plain text: a string, line breaks as \\n, no other control characters."""
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(path, _l("must be text"))
            return ""
        value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        if not is_plain_text(value, len(value), allowed="\n\t"):
            self.add(path, _l("must be plain text, without control characters"))
        elif len(value) > limit:
            self.add(path, _l("must be at most %(limit)s characters"), limit=limit)
        elif required and not value:
            self.add(path, _l("is required"))
        return value

    def time(self, value, path: str) -> datetime | None:
        """An ISO 8601 time with its offset (or "Z"), as aware UTC; None when empty."""
        if value in (None, ""):
            return None
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.add(path, _l("must be a time like 2026-12-01T09:00:00Z"))
            return None
        return parsed.astimezone(UTC)

    def known_keys(self, value: dict, allowed: set[str], path: str) -> None:
        for key in sorted(set(value) - allowed):
            self.add(key_path(path, key), _l("is not a field we know"))


def validate(data) -> tuple[dict, list[Problem]]:
    """The document normalised, and every problem in it (none: it can be saved).

    A live document must also be complete: copy for every language it targets
    and at least one banner variant. A draft may be saved half-written.
    """
    check = Checker()
    if not isinstance(data, dict):
        check.add("campaign", _l("must be a JSON object"))
        return {}, check.problems
    check.known_keys(data, KEYS, "")
    slug = data.get("slug")
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        check.add("slug", _l("must be lowercase letters, digits and hyphens, at most 48"))
    elif slug == DEFAULT_SLUG:
        check.add("slug", _l("is the default campaign's; choose another"))
    status = data.get("status", "draft")
    if status not in STATUSES:
        check.add("status", _l("must be draft, live or ended"))
    doc = {
        "slug": slug if isinstance(slug, str) else "",
        "name": check.text(data.get("name"), "name", LIMITS["name"], required=True),
        "status": status if status in STATUSES else "draft",
        "starts_at": check.time(data.get("starts_at"), "starts_at"),
        "ends_at": check.time(data.get("ends_at"), "ends_at"),
        "goal": _goal(data.get("goal"), check),
        "presets": _presets(data.get("presets"), check),
        "default_frequency": data.get("default_frequency", "month"),
        "targeting": _targeting(data.get("targeting"), check),
    }
    if doc["default_frequency"] not in FREQUENCIES:
        check.add("default_frequency", _l("must be month, year or once"))
        doc["default_frequency"] = "month"
    if doc["starts_at"] and doc["ends_at"] and doc["ends_at"] <= doc["starts_at"]:
        check.add("ends_at", _l("must be after the start"))
    required = doc["targeting"]["langs"] if doc["status"] == "live" else []
    doc["appeal"] = _appeal(data.get("appeal"), required, check)
    doc["banner"] = _banner(data.get("banner"), required, check)
    return doc, check.problems


def _goal(value, check: Checker) -> dict | None:
    if value in (None, {}):
        return None
    supporters = value.get("supporters") if isinstance(value, dict) else None
    if isinstance(value, dict):
        check.known_keys(value, {"supporters"}, "goal")
    if isinstance(supporters, bool) or not isinstance(supporters, int):
        check.add("goal.supporters", _l("must be a whole number of supporters"))
        return None
    if not 1 <= supporters <= MAX_GOAL:
        check.add("goal.supporters", _l("must be between 1 and %(max)s"), max=MAX_GOAL)
        return None
    return {"supporters": supporters}


def _presets(value, check: Checker) -> dict[str, list]:
    """Amounts in major units per currency we take; an empty list means the settings'."""
    if value in (None, {}):
        return {}
    if not isinstance(value, dict):
        check.add("presets", _l("must map each currency to a list of amounts"))
        return {}
    config = current_app.config
    presets: dict[str, list] = {}
    for currency, amounts in value.items():
        path = key_path("presets", currency)
        if currency not in config["SUPPORT_CURRENCIES"]:
            check.add(path, _l("is not a currency we take"))
            continue
        if not isinstance(amounts, list) or not 1 <= len(amounts) <= MAX_PRESETS:
            check.add(path, _l("must be a list of 1 to %(max)s amounts"), max=MAX_PRESETS)
            continue
        clean = []
        for index, amount in enumerate(amounts):
            number = _amount(amount, currency)
            if number is None:
                check.add(
                    f"{path}[{index}]",
                    _l("must be an amount between %(min)s and %(max)s"),
                    min=MINIMUM_GIFT,
                    max=config["SUPPORT_MAX_AMOUNT"],
                )
            else:
                clean.append(number)
        if len(set(clean)) != len(clean):
            check.add(path, _l("lists an amount twice"))
        presets[currency] = sorted(clean)
    return presets


def _amount(value, currency: str) -> int | Decimal | None:
    """A preset in major units (int when whole), or None when unusable.

    Written as a reader would type it, by money.py's rules: "1e1" is refused as a
    reader's "1e1" is, and so are amounts below the minimum gift or above the maximum.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    maximum = current_app.config["SUPPORT_MAX_AMOUNT"]
    try:
        minor = parse_amount(str(value), currency, MINIMUM_GIFT, maximum)
    except AmountError:
        return None
    number = to_major(minor, currency)
    return int(number) if number == number.to_integral_value() else number.normalize()


def _targeting(value, check: Checker) -> dict:
    value = value if isinstance(value, dict) else {}
    check.known_keys(value, {"langs", "url_prefixes"}, "targeting")
    langs = value.get("langs") or list(LANGUAGES)
    # Each entry's type first: a list or an object inside cannot even be compared.
    if not isinstance(langs, list) or not all(choice(x, LANGUAGES) for x in langs):
        check.add("targeting.langs", _l("must be a list of en and ar"))
        langs = list(LANGUAGES)
    prefixes = value.get("url_prefixes") or []
    if not isinstance(prefixes, list) or len(prefixes) > MAX_PREFIXES:
        check.add(
            "targeting.url_prefixes",
            _l("must be a list of at most %(max)s addresses"),
            max=MAX_PREFIXES,
        )
        prefixes = []
    clean = []
    for index, prefix in enumerate(prefixes):
        if (
            not isinstance(prefix, str)
            or len(prefix) > LIMITS["url_prefix"]
            or clean_source(prefix) != prefix
        ):
            check.add(
                f"targeting.url_prefixes[{index}]",
                _l("must be an http(s) address on one of the newsroom's sites"),
            )
        else:
            clean.append(prefix)
    return {"langs": [lang for lang in LANGUAGES if lang in langs], "url_prefixes": clean}


def _appeal(value, required: list[str], check: Checker) -> dict:
    value = value if isinstance(value, dict) else {}
    check.known_keys(value, set(LANGUAGES), "appeal")
    appeal = {}
    for lang in LANGUAGES:
        texts = value.get(lang) if isinstance(value.get(lang), dict) else {}
        check.known_keys(texts, {"headline", "body"}, f"appeal.{lang}")
        need = lang in required
        appeal[lang] = {
            "headline": check.text(
                texts.get("headline"), f"appeal.{lang}.headline", LIMITS["appeal.headline"], need
            ),
            "body": check.text(
                texts.get("body"), f"appeal.{lang}.body", LIMITS["appeal.body"], need
            ),
        }
    return appeal


def _banner(value, required: list[str], check: Checker) -> dict:
    value = value if isinstance(value, dict) else {}
    check.known_keys(value, {"optimise", "variants"}, "banner")
    optimise = value.get("optimise", False)
    if not isinstance(optimise, bool):
        check.add("banner.optimise", _l("must be true or false"))
        optimise = False
    variants = value.get("variants") or []
    if not isinstance(variants, list) or len(variants) > MAX_VARIANTS:
        check.add(
            "banner.variants", _l("must be a list of at most %(max)s variants"), max=MAX_VARIANTS
        )
        variants = []
    if required and not variants:
        check.add("banner.variants", _l("needs at least one variant to go live"))
    clean, seen = [], set()
    for index, variant in enumerate(variants):
        entry = check_variant(variant, f"banner.variants[{index}]", required, seen, check)
        if entry is not None:
            clean.append(entry)
    return {"optimise": optimise, "variants": clean}


def check_variant(
    variant,
    path: str,
    required: list[str],
    seen: set[str],
    check: Checker,
    extra_keys: frozenset[str] = frozenset(),
    own_words_optional: bool = False,
) -> dict | None:
    """One banner variant by the editor's rules, normalised (None when not an object).

    The settings' variants (`SUPPORT_BANNER_VARIANTS`, the default campaign) go
    through here too, so they obey the same names, weights and text lengths: they
    may also carry `extra_keys` (a built-in copy set, amounts), and their own words
    are optional (`own_words_optional`) but, when given, needed in every language.
    """
    if not isinstance(variant, dict):
        check.add(path, _l("must be an object"))
        return None
    check.known_keys(variant, VARIANT_KEYS | extra_keys, path)
    name = variant.get("name")
    if not isinstance(name, str) or not VARIANT_NAME.fullmatch(name):
        check.add(f"{path}.name", _l("must be letters, digits, '-', '_' or '.', at most 40"))
        name = ""
    elif name in seen:
        check.add(f"{path}.name", _l("is used by another variant"))
    seen.add(name)
    weight = variant.get("weight", 1)
    if (
        isinstance(weight, bool)
        or not isinstance(weight, int | float | Decimal)
        or not 0 < weight <= MAX_WEIGHT
    ):
        check.add(f"{path}.weight", _l("must be a number above 0, at most %(max)s"), max=MAX_WEIGHT)
        weight = 1
    entry = {"name": name, "weight": float(weight) if isinstance(weight, Decimal) else weight}
    for key in VARIANT_TEXTS:
        given = variant.get(key)
        if own_words_optional and given is None:
            continue
        texts = given if isinstance(given, dict) else {}
        check.known_keys(texts, set(LANGUAGES), f"{path}.{key}")
        entry[key] = {
            lang: check.text(
                texts.get(lang),
                f"{path}.{key}.{lang}",
                LIMITS[f"variant.{key}"],
                own_words_optional or lang in required,
            )
            for lang in LANGUAGES
        }
    return entry


def to_json(doc: dict) -> dict:
    """The document as JSON values: times as ISO 8601 in UTC, amounts as numbers."""
    out = dict(doc)
    for key in ("starts_at", "ends_at"):
        out[key] = doc[key].isoformat().replace("+00:00", "Z") if doc.get(key) else None
    out["presets"] = {
        currency: [float(a) if isinstance(a, Decimal) else a for a in amounts]
        for currency, amounts in doc.get("presets", {}).items()
    }
    return out


def changed_paths(before: dict, after: dict, prefix: str = "") -> list[str]:
    """The paths whose values differ between two documents (for a revision's summary)."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths = []
        for key in [*before, *(k for k in after if k not in before)]:
            path = f"{prefix}.{key}" if prefix else key
            paths += changed_paths(before.get(key), after.get(key), path)
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        paths = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            paths += changed_paths(old, new, f"{prefix}[{index}]")
        return paths
    return [] if before == after else [prefix]
