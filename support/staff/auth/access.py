"""Who may see the staff area: sign-in rules, roles and login throttling.

Pages send anonymous visitors to the login form; `/staff/api/*` answers 401
JSON instead, because a script cannot follow a login redirect.

Failed sign-ins (wrong passwords, then wrong codes) are counted per account
*and client address* (`STAFF_LOGIN_LIMIT_ACCOUNT`) and per client address
(`STAFF_LOGIN_LIMIT_IP`). Someone guessing an admin's password therefore
blocks only their own address: the admin, signing in from another, is never
kept out by failures that are not theirs. Guessing from many addresses is
still slow (each gets a few tries), and a password alone opens nothing for
an account with a second factor. Addresses are keyed-hashed
(`support.address_keys`) before they reach the limiter's store.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from support.address_keys import account_address_key, address_key
from support.addresses import normalise_email
from support.errors import render_error
from support.extensions import login_manager
from support.staff import bp
from support.staff.auth.sign_in import pending_user_id


def unauthorized():
    """401 JSON for the API, a redirect to the login form for pages."""
    if request.path.startswith("/staff/api/"):
        return render_error(401, _("Sign in to use the staff API."))
    return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))


def init_login(app) -> None:
    """Flask-Login, set up here and only here: who the cookie names, where the
    signed-out go, and nothing said on the login page that it does not say itself."""
    from support.staff.auth.sessions import load_user

    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    login_manager.login_message = None
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)


@bp.record_once
def session_lifetime(state) -> None:
    """The cookie lasts `STAFF_SESSION_HOURS`, not Flask's 31 days.

    The server-side session (support/staff/sessions.py) is what counts: its
    lifetime runs from signing in, and an idle browser is signed out sooner.
    """
    hours = state.app.config["STAFF_SESSION_HOURS"]
    state.app.permanent_session_lifetime = timedelta(hours=hours)


# What an admin without a second factor may still reach: enrolment and the way out.
BEFORE_ENROLMENT = frozenset(
    {
        "staff.two_factor",
        "staff.logout",
        "staff.login",
        "staff.login_code",
        "staff.forgot_password",
        "staff.reset_password",
        "staff.accept_invitation",
        "static",
    }
)


@bp.before_request
def admins_enrol_first():
    """An admin without a second factor is sent to set one up before anything else."""
    if request.endpoint in BEFORE_ENROLMENT or not current_user.is_authenticated:
        return None
    if current_user.is_admin and not current_user.totp_enabled:
        if request.path.startswith("/staff/api/"):
            return render_error(403, _("Set up two-step sign-in first."))
        return redirect(url_for("staff.two_factor"))
    return None


def staff_required(view):
    """Every staff view: signed in (any role)."""
    return login_required(view)


def admin_required(view):
    """Views that change data or talk to Stripe: admins only, 403 for viewers."""

    @functools.wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def editor_required(view):
    """Views that change campaigns: editors and admins, 403 for viewers."""

    @functools.wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.can_edit_campaigns:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def login_failed(response: Response) -> bool:
    """Only answers that did not sign anyone in count against the limits."""
    return response.status_code != 302


def account_key() -> str:
    """The throttling key for one account from one client address (keyed digest)."""
    return account_address_key("staff-login", normalise_email(request.form.get("email", ""))[:320])


def ip_key() -> str:
    """The throttling key for one client address."""
    return address_key("staff-login-ip")


def account_limit() -> str:
    """Failed sign-ins allowed per account and address (`STAFF_LOGIN_LIMIT_ACCOUNT`)."""
    return current_app.config["STAFF_LOGIN_LIMIT_ACCOUNT"]


def ip_limit() -> str:
    """Failed sign-ins allowed per client address (`STAFF_LOGIN_LIMIT_IP`)."""
    return current_app.config["STAFF_LOGIN_LIMIT_IP"]


def code_account_key() -> str:
    """The throttling key for codes of the half-signed-in account from one client address."""
    return account_address_key("staff-2fa", pending_user_id())


def code_ip_key() -> str:
    """The throttling key for second-factor codes from one client address."""
    return address_key("staff-2fa-ip")
