"""Self-service links: asking for one, spending it once, and the proof (a supporter session
or the paying browser) that lets a browser act for a Stripe customer."""

from flask import Blueprint

from support.i18n import add_lang, pull_lang

bp = Blueprint("manage", __name__)
bp.url_value_preprocessor(pull_lang)
bp.url_defaults(add_lang)

from support.manage import routes  # noqa: E402, F401
