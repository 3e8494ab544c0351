"""The campaign editor's form, to and from a campaign document.

Each input is named after the document path it fills (`appeal.ar.headline`,
`banner.variants[1].cta.en`, `presets.usd`), so a `Problem` found by
`document.validate` lands next to the input it is about. Variant slots left
empty or ticked "remove" are not part of the document; `slots` remembers which
slot each remaining variant came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import current_app
from werkzeug.datastructures import MultiDict

from support.campaigns.document import LIMITS, MAX_VARIANTS, VARIANT_TEXTS, Problem
from support.choices import LANGUAGES
from support.form_values import whole_number

MIN_SLOTS = 2
_INDEX = re.compile(r"^banner\.variants\[(\d+)\]")
_LOCAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?")


@dataclass
class EditorForm:
    """What the editor shows: the inputs' values, how many variant slots, the errors."""

    values: dict
    slots: int
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def value(self, name: str) -> str:
        """An input's value as text ("" when empty)."""
        value = self.values.get(name)
        return "" if value is None else str(value)

    def input_id(self, name: str) -> str:
        """An id for the input named `name` (no dots or brackets, for labels and CSS)."""
        return "f-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def limit(name: str) -> int | None:
    """The `maxlength` of the input named `name`, from `document.LIMITS`."""
    if name == "name":
        return LIMITS["name"]
    if name.startswith("appeal."):
        return LIMITS["appeal." + name.split(".")[2]]
    match = _INDEX.match(name)
    if match and name.split(".")[2] in VARIANT_TEXTS:
        return LIMITS["variant." + name.split(".")[2]]
    return None


def _local_time(value: str | None) -> str:
    """An ISO time in UTC ("2026-12-01T09:00:00Z") as a datetime-local value."""
    return value[:16] if value else ""


def from_document(doc: dict) -> EditorForm:
    """The form filled with a saved document."""
    values: dict = {
        "name": doc["name"],
        "slug": doc["slug"],
        "starts_at": _local_time(doc.get("starts_at")),
        "ends_at": _local_time(doc.get("ends_at")),
        "goal.supporters": (doc.get("goal") or {}).get("supporters", ""),
        "default_frequency": doc.get("default_frequency", "month"),
        "banner.optimise": doc["banner"]["optimise"],
        "targeting.langs": doc["targeting"]["langs"],
        "targeting.url_prefixes": "\n".join(doc["targeting"]["url_prefixes"]),
    }
    for currency, amounts in doc.get("presets", {}).items():
        values[f"presets.{currency}"] = ", ".join(_number(a) for a in amounts)
    for lang in LANGUAGES:
        for key in ("headline", "body"):
            values[f"appeal.{lang}.{key}"] = doc["appeal"][lang][key]
    variants = doc["banner"]["variants"]
    for index, variant in enumerate(variants):
        prefix = f"banner.variants[{index}]"
        values[f"{prefix}.name"] = variant["name"]
        values[f"{prefix}.weight"] = _number(variant["weight"])
        for key in VARIANT_TEXTS:
            for lang in LANGUAGES:
                values[f"{prefix}.{key}.{lang}"] = variant[key][lang]
    return EditorForm(values, max(MIN_SLOTS, len(variants)))


def _number(value) -> str:
    return str(int(value)) if float(value) == int(value) else str(value)


def from_request(form: MultiDict) -> EditorForm:
    """The form as typed (kept whole, so nothing typed is lost on a refusal)."""
    values: dict = {key: form.get(key, "") for key in form}
    values["targeting.langs"] = form.getlist("targeting.langs")
    values["banner.optimise"] = "banner.optimise" in form
    count = whole_number(form.get("slots"), 1000) or MIN_SLOTS
    return EditorForm(values, min(max(count, MIN_SLOTS), MAX_VARIANTS))


def _time(value: str) -> str:
    """A datetime-local value, which the form says is UTC, as an ISO time with its offset."""
    value = value.strip()
    return value + "Z" if _LOCAL_TIME.fullmatch(value) else value


def _whole(value: str, default=None):
    """A whole number from text; the text itself when it is not one (validate says so)."""
    value = value.strip()
    if not value:
        return default
    number = whole_number(value, 10**15)
    return value if number is None else number


def _weight(value: str):
    value = value.strip()
    try:
        return float(value) if "." in value else int(value)
    except ValueError:
        return value or 1


def _variant_empty(form: EditorForm, prefix: str) -> bool:
    names = ["name", *(f"{k}.{lang}" for k in VARIANT_TEXTS for lang in LANGUAGES)]
    return not any(form.value(f"{prefix}.{n}").strip() for n in names)


def to_document(form: EditorForm, slug: str, status: str) -> tuple[dict, list[int]]:
    """The document the form describes, and the slot of each of its variants."""
    goal = _whole(form.value("goal.supporters"))
    presets = {}
    for currency in current_app.config["SUPPORT_CURRENCIES"]:
        typed = form.value(f"presets.{currency}").strip()
        if typed:
            presets[currency] = [a.strip() for a in re.split(r"[,،\s]+", typed) if a.strip()]
    variants, slots = [], []
    for slot in range(form.slots):
        prefix = f"banner.variants[{slot}]"
        if form.values.get(f"{prefix}.remove") or _variant_empty(form, prefix):
            continue
        variant = {
            "name": form.value(f"{prefix}.name").strip(),
            "weight": _weight(form.value(f"{prefix}.weight")),
        }
        for key in VARIANT_TEXTS:
            variant[key] = {lang: form.value(f"{prefix}.{key}.{lang}") for lang in LANGUAGES}
        variants.append(variant)
        slots.append(slot)
    prefixes = form.value("targeting.url_prefixes").splitlines()
    doc = {
        "slug": slug,
        "name": form.value("name"),
        "status": status,
        "starts_at": _time(form.value("starts_at")),
        "ends_at": _time(form.value("ends_at")),
        "goal": {"supporters": goal} if goal is not None else None,
        "presets": presets,
        "default_frequency": form.value("default_frequency") or "month",
        "appeal": {
            lang: {key: form.value(f"appeal.{lang}.{key}") for key in ("headline", "body")}
            for lang in LANGUAGES
        },
        "banner": {"optimise": bool(form.values.get("banner.optimise")), "variants": variants},
        "targeting": {
            "langs": list(form.values.get("targeting.langs") or []),
            "url_prefixes": [p.strip() for p in prefixes if p.strip()],
        },
    }
    return doc, slots


def input_for(path: str, slots: list[int]) -> str | None:
    """The input a problem's path is about (None: the form as a whole)."""
    match = _INDEX.match(path)
    if match:
        index = int(match.group(1))
        if index >= len(slots):
            return None
        path = f"banner.variants[{slots[index]}]" + path[match.end() :]
        return path if path.count(".") >= 2 else None
    if path.startswith("presets."):
        return path.split("[")[0]
    if path.startswith("targeting.url_prefixes"):
        return "targeting.url_prefixes"
    if path == "goal":
        return "goal.supporters"
    known = {"name", "slug", "starts_at", "ends_at", "goal.supporters", "default_frequency"}
    if path in known or path.startswith("appeal.") or path == "targeting.langs":
        return path
    if path == "banner.variants":
        return path
    return None


def show_problems(form: EditorForm, problems: list[Problem], slots: list[int]) -> None:
    """Put each problem next to its input, or above the form when it has none."""
    for problem in problems:
        name = input_for(problem.path, slots)
        if name is None:
            form.general.append(f"{problem.path}: {problem.message}")
        else:
            form.errors.setdefault(name, []).append(problem.message)
