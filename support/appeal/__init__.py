"""The appeal: the page a reader lands on, checkout, thanks and cancelled."""

from flask import Blueprint

from support.i18n import add_lang, pull_lang

bp = Blueprint("appeal", __name__)
bp.url_value_preprocessor(pull_lang)
bp.url_defaults(add_lang)

from support.appeal import ready_routes, routes  # noqa: E402, F401
