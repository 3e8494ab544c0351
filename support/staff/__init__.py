"""Staff area: sign-in, dashboard, banner funnel, supporters, CSV and the webhook inbox."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from support.staff import access, routes, supporter_routes  # noqa: E402, F401
