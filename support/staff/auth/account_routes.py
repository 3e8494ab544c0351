"""`/staff/accounts`: admins invite people, change roles, deactivate and reactivate accounts."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from support.extensions import db
from support.models import StaffUser
from support.staff import bp
from support.staff.auth import account_admin
from support.staff.auth.access import admin_required
from support.staff.forms import ActionForm, InviteForm, RoleForm


def _list_page(invite: InviteForm, error: str | None = None, status: int = 200):
    """The account list with the invitation form (kept as typed after a refusal)."""
    page = render_template(
        "staff/accounts.html",
        users=account_admin.accounts_list(),
        invite=invite,
        role_form=RoleForm,
        action=ActionForm(),
        error=error,
    )
    return page, status


@bp.get("/accounts")
@admin_required
def accounts_page():
    """Every staff account: email, role, status, last sign-in, two-step sign-in."""
    return _list_page(InviteForm())


@bp.post("/accounts/invite")
@admin_required
def invite():
    """Invite an address with a role; the worker mails the link."""
    form = InviteForm()
    if not form.validate():
        return _list_page(form, status=400)
    lang = str(get_locale() or "en")  # the invitation is written in the inviting admin's language
    try:
        user = account_admin.invite(form.email.data, form.role.data, lang)
    except account_admin.ChangeRefused as refused:
        db.session.rollback()
        return _list_page(form, str(refused), 400)
    flash(_("Invitation sent to %(email)s.", email=user.email))
    return redirect(url_for("staff.accounts_page"), 303)


def _account(user_id: int) -> StaffUser:
    """The account in the URL, or a 404 page."""
    return db.get_or_404(StaffUser, user_id)


def _refused_flash(refused: account_admin.ChangeRefused):
    """Back to the list, saying why nothing changed."""
    db.session.rollback()
    flash(str(refused), "error")
    return redirect(url_for("staff.accounts_page"), 303)


@bp.post("/accounts/<int:user_id>/role")
@admin_required
def change_role(user_id: int):
    """Give an account another role (never leaving no active admin)."""
    user = _account(user_id)
    form = RoleForm()
    if not form.validate():
        flash(_("Choose one of the roles offered."), "error")
        return redirect(url_for("staff.accounts_page"), 303)
    try:
        account_admin.change_role(user, form.role.data)
    except account_admin.ChangeRefused as refused:
        return _refused_flash(refused)
    flash(_("%(email)s's role is changed.", email=user.email))
    return redirect(url_for("staff.accounts_page"), 303)


def _switch(user_id: int, change, done: str):
    """Deactivate or reactivate the account in the URL, then back to the list."""
    user = _account(user_id)
    if not ActionForm().validate():
        abort(400)
    try:
        change(user)
    except account_admin.ChangeRefused as refused:
        return _refused_flash(refused)
    flash(done % {"email": user.email})
    return redirect(url_for("staff.accounts_page"), 303)


@bp.post("/accounts/<int:user_id>/deactivate")
@admin_required
def deactivate(user_id: int):
    """Stop an account signing in; its open sessions end at once."""
    return _switch(user_id, account_admin.deactivate, _("%(email)s is deactivated and signed out."))


@bp.post("/accounts/<int:user_id>/reactivate")
@admin_required
def reactivate(user_id: int):
    """Let a deactivated account sign in again."""
    return _switch(user_id, account_admin.reactivate, _("%(email)s is active again."))
