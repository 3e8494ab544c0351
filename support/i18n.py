"""Which language a request speaks, and how pages learn it.

Reader pages carry the language in the URL (`/en/`, `/ar/`); everything else
falls back to the browser's Accept-Language, then English.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, g, request

from support.choices import LANGUAGES

RTL_LANGUAGES = frozenset({"ar"})


def best_language() -> str:
    """The reader's preferred supported language from Accept-Language."""
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def select_locale() -> str:
    """Flask-Babel's locale selector: the URL's language, else the browser's."""
    lang = g.get("lang")
    if lang:
        return lang
    if not request:
        return "en"
    # A URL that matched no route (a 404) still says its language: /ar/...
    first = request.path.strip("/").split("/", 1)[0]
    return first if first in LANGUAGES else best_language()


def pull_lang(endpoint, values) -> None:
    """URL preprocessor for `/<lang>/...` blueprints: validate and keep `lang` in `g`."""
    if values is None or "lang" not in values:
        return
    lang = values.pop("lang")
    if lang not in LANGUAGES:
        # Remember the browser's language so the 404 page is readable.
        g.lang = best_language()
        abort(404)
    g.lang = lang


def add_lang(endpoint, values) -> None:
    """URL defaults for `/<lang>/...` blueprints: keep the current language in links."""
    if "lang" not in values and g.get("lang"):
        values["lang"] = g.lang


def direction(lang: str) -> str:
    """`rtl` or `ltr`, for the `dir` attribute."""
    return "rtl" if lang in RTL_LANGUAGES else "ltr"


def newsroom_name(lang: str) -> str:
    """The newsroom's name as readers of `lang` know it (SUPPORT_NEWSROOM_NAME[_AR])."""
    config = current_app.config
    if lang == "ar":
        return config["SUPPORT_NEWSROOM_NAME_AR"] or config["SUPPORT_NEWSROOM_NAME"]
    return config["SUPPORT_NEWSROOM_NAME"]


def init_app(app: Flask) -> None:
    """Expose the language, its direction and the other language to templates."""

    @app.context_processor
    def language_context():
        lang = select_locale() if request else "en"
        return {
            "lang": lang,
            "text_dir": direction(lang),
            "other_lang": "ar" if lang == "en" else "en",
            "newsroom": newsroom_name(lang),
        }
