"""Translation catalogs: extract, update, compile and check.

Each part of the app owns one gettext domain, so its strings live in their own
`.po` file and can be translated on their own; Flask-Babel merges them at run
time (see `BABEL_DOMAIN` in support/config.py).

    python -m devtools.i18n update    # extract strings, merge into every .po
    python -m devtools.i18n compile   # .po -> .mo (make does this; create_app too, when needed)
    python -m devtools.i18n check     # list strings without an Arabic translation
                                      # and translatable files no domain extracts
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po, write_po

from support.catalogs import compile_catalog

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "support" / "translations"
LOCALES = ("ar",)

# Which files feed which domain. The order of DOMAINS is the lookup order.
# Every pattern below a package or template folder recurses (`**`), so a module or
# template moved into a sub-folder stays extracted; `support/*.py` is the top-level
# modules only, as each sub-package belongs to one domain. A translatable file no
# pattern covers is listed by `uncovered()`, and `check` fails on it.
DOMAINS: dict[str, list[str]] = {
    "messages": [
        "support/*.py",
        "support/appeal/**/*.py",
        "templates/base.html",
        "templates/_frequency.html",
        "templates/appeal/**/*.html",
        "templates/errors/**/*.html",
    ],
    "banner": ["support/banner/**/*.py", "templates/banner/**/*.html"],
    "staff": [
        "support/staff/**/*.py",
        "support/campaigns/**/*.py",
        "support/alerts/**/*.py",
        "templates/staff/**/*.html",
    ],
    "manage": [
        "support/manage/**/*.py",
        "support/account/**/*.py",
        "support/mail/**/*.py",
        "support/asks/**/*.py",
        "templates/manage/**/*.html",
        "templates/asks/**/*.html",
        "templates/account/**/*.html",
        "templates/email/**/*",
    ],
}
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "silent": "false"}


def _files(patterns: list[str], root: Path = ROOT) -> list[Path]:
    found: set[Path] = set()
    for pattern in patterns:
        found.update(p for p in root.glob(pattern) if p.is_file())
    return sorted(found)


# A call of any gettext function Flask-Babel or Jinja offers: `_(`, `gettext(`,
# `ngettext(`, `lazy_gettext(`, `_l(`... (also as a method: `.gettext(`).
_TRANSLATION_CALL = re.compile(r"(?<![\w])(?:_|_l|(?:lazy_)?n?gettext|pgettext|npgettext)\(")
SOURCES = ("support/**/*.py", "templates/**/*")


def uncovered(root: Path = ROOT) -> list[str]:
    """Files that call a gettext function but feed no domain: their strings would
    silently never be translated, so `check` fails on them."""
    covered = {path for patterns in DOMAINS.values() for path in _files(patterns, root)}
    return [
        str(path.relative_to(root))
        for path in _files(list(SOURCES), root)
        if path not in covered
        and "__pycache__" not in path.parts
        and _TRANSLATION_CALL.search(path.read_text(encoding="utf-8", errors="replace"))
    ]


def extract(domain: str) -> Catalog:
    """Every translatable string of `domain`, with where it stands."""
    template = Catalog(project="reader-support", domain=domain)
    for path in _files(DOMAINS[domain]):
        method = "python" if path.suffix == ".py" else "jinja2"
        options = {} if method == "python" else JINJA_OPTIONS
        for lineno, message, comments, context in extract_from_file(
            method, str(path), keywords=KEYWORDS, options=options
        ):
            template.add(
                message,
                locations=[(str(path.relative_to(ROOT)), lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def po_path(locale: str, domain: str) -> Path:
    return CATALOGS / locale / "LC_MESSAGES" / f"{domain}.po"


def load(locale: str, domain: str) -> Catalog:
    path = po_path(locale, domain)
    if not path.exists():
        return Catalog(locale=locale, domain=domain)
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=domain)


def update() -> None:
    """Merge freshly extracted strings into every catalog (keeping translations)."""
    for domain in DOMAINS:
        template = extract(domain)
        for locale in LOCALES:
            catalog = load(locale, domain)
            created = catalog.creation_date
            catalog.update(template, no_fuzzy_matching=True)
            # Keep the header stable: a re-extraction alone must not change the file.
            catalog.creation_date = created
            path = po_path(locale, domain)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as handle:
                write_po(handle, catalog, width=100, ignore_obsolete=True, include_lineno=False)


def compile_all() -> None:
    """Write the .mo files Flask-Babel reads (the app also does at start-up when needed)."""
    for domain in DOMAINS:
        for locale in LOCALES:
            path = po_path(locale, domain)
            compile_catalog(path, path.with_suffix(".mo"))


def missing() -> dict[str, list[str]]:
    """Per "locale/domain", the source strings with no translation (or a fuzzy one)."""
    result: dict[str, list[str]] = {}
    for domain in DOMAINS:
        template = extract(domain)
        for locale in LOCALES:
            catalog = load(locale, domain)
            gaps = []
            for message in template:
                if not message.id:
                    continue
                found = catalog.get(message.id, context=message.context)
                strings = found.string if found else None
                empty = not all(strings) if isinstance(strings, tuple | list) else not strings
                if found is None or empty or found.fuzzy:
                    gaps.append(message.id if isinstance(message.id, str) else message.id[0])
            if gaps:
                result[f"{locale}/{domain}"] = gaps
    return result


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "compile"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        strays = uncovered()
        for path in strays:
            print(f"{path}: calls gettext but no domain in devtools/i18n.py extracts it")
        gaps = missing()
        for key, ids in gaps.items():
            print(f"{key}: {len(ids)} untranslated")
            for message_id in ids:
                print(f"  {message_id}")
        return 1 if gaps or strays else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
