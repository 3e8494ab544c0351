"""The supporter page: a proven address's gifts and what can be done with them."""

from flask import Blueprint

from support.i18n import add_lang, pull_lang

bp = Blueprint("account", __name__)
bp.url_value_preprocessor(pull_lang)
bp.url_defaults(add_lang)

from support.account import action_routes, card, routes  # noqa: E402, F401
