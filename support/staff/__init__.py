"""Staff area: sign-in, dashboard, banner funnel, supporters, CSV, the webhook inbox,
and admins' actions on a supporter (refund, cancel, send a mail again)."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from support.staff import access, action_routes, routes, supporter_routes  # noqa: E402, F401
