"""Choosing a password through a mailed link: accepting an invitation, resetting a password."""

from __future__ import annotations

import logging

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from support.mailed_links import answer, no_store, throttled
from support.staff import bp
from support.staff.auth import account_links, password_reset, sign_in
from support.staff.auth.accounts import MIN_PASSWORD_LENGTH
from support.staff.forms import ForgotForm, PasswordForm

log = logging.getLogger(__name__)

# Why a link does not work → the status of the page saying so.
PROBLEM_STATUS = {"invalid": 400, "expired": 410, "used": 410}


def _problem(purpose: str, reason: str):
    """The page saying why a link does not work, with its status."""
    page = render_template("staff/link_problem.html", purpose=purpose, reason=reason)
    return no_store(make_response(page, PROBLEM_STATUS[reason]))


def _password_page(purpose: str, form: PasswordForm, email: str, status: int = 200):
    """The form to choose a password, for the account the link opens."""
    page = render_template(
        "staff/set_password.html",
        purpose=purpose,
        form=form,
        email=email,
        min_length=MIN_PASSWORD_LENGTH,
    )
    return no_store(make_response(page, status))


def _choose_password(token: str, purpose: str):
    """GET shows the form (using nothing up); a valid POST sets the password once."""
    try:
        link = account_links.read(token, purpose)
    except account_links.LinkProblem as problem:
        return None, _problem(purpose, problem.reason)
    form = PasswordForm()
    if request.method != "POST":  # GET, or HEAD from a mail scanner
        return None, _password_page(purpose, form, link.user.email)
    if not form.validate():
        return None, _password_page(purpose, form, link.user.email, 400)
    try:
        user = account_links.use(token, purpose, form.password.data)
    except account_links.LinkProblem as problem:
        return None, _problem(purpose, problem.reason)
    return user, None


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """An invited person chooses a password and is signed in (admins then set up a code)."""
    user, page = _choose_password(token, "invite")
    if page is not None:
        return page
    sign_in.sign_out()  # whoever was signed in on this browser before
    sign_in.complete(user)
    log.info("Staff user %s accepted their invitation", user.id)
    flash(_("Welcome! Your account is ready."))
    return no_store(redirect(url_for("staff.dashboard"), 303))


@bp.route("/password-reset", methods=["GET", "POST"])
@throttled("staff-reset", "STAFF_RESET_LIMIT_PER_IP", "STAFF_RESET_LIMIT_PER_EMAIL")
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    lang = str(get_locale() or "en")
    return answer(
        ForgotForm(),
        "staff/forgot_password.html",
        "staff/reset_sent.html",
        lambda email: password_reset.request_reset(email, lang),
    )


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a mailed link; every session of the account ends."""
    user, page = _choose_password(token, "reset")
    if page is not None:
        return page
    sign_in.sign_out()
    log.info("Staff user %s reset their password", user.id)
    flash(_("Your password is changed. Sign in with it now."))
    return no_store(redirect(url_for("staff.login"), 303))
