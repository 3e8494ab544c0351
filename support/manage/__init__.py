"""Self-service: a supporter asks for a signed link and manages their gift on Stripe."""

from flask import Blueprint

from support.i18n import add_lang, pull_lang

bp = Blueprint("manage", __name__)
bp.url_value_preprocessor(pull_lang)
bp.url_defaults(add_lang)

from support.manage import routes  # noqa: E402, F401
