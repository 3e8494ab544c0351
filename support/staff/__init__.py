"""Staff area: sign-in, dashboard, banner funnel, supporters, CSV, the webhook inbox,
campaigns, upgrade asks, accounts, the audit log, and admins' actions on a supporter.

One blueprint for every page; each area's routes live in its sub-package."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from support.staff import audit_routes  # noqa: E402, F401
from support.staff.asks import routes as ask_routes  # noqa: E402, F401
from support.staff.auth import (  # noqa: E402, F401
    access,
    account_routes,
    digest_routes,
    mail,
    password_routes,
    two_factor_routes,
)
from support.staff.auth import routes as auth_routes  # noqa: E402, F401
from support.staff.campaigns import actions as campaign_actions  # noqa: E402, F401
from support.staff.campaigns import routes as campaign_routes  # noqa: E402, F401
from support.staff.insights import routes as insight_routes  # noqa: E402, F401
from support.staff.supporters import action_routes  # noqa: E402, F401
from support.staff.supporters import routes as supporter_routes  # noqa: E402, F401
