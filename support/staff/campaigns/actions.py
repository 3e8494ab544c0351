"""Staff actions on a campaign: publish, end, duplicate, and its history with going back."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from support import audit
from support.campaigns import live, store
from support.campaigns.document import DEFAULT_SLUG
from support.choices import LANGUAGES
from support.extensions import db
from support.staff import bp
from support.staff.auth.access import editor_required, staff_required
from support.staff.campaigns.default import default_document
from support.staff.campaigns.form import from_document, show_problems
from support.staff.campaigns.labels import action_label, field_labels
from support.staff.campaigns.routes import campaign_or_404, editor_page
from support.staff.campaigns.views import base_version, conflict_note

STATUS_CHANGES = {
    "publish": ("live", "published"),
    "end": ("ended", "ended"),
}


def _edit_url(slug: str) -> str:
    return url_for("staff.campaign_edit", slug=slug)


@bp.post("/campaigns/<slug>/<any(publish, end):change>")
@editor_required
def campaign_status(slug: str, change: str):
    """Publish (it must be complete: if not, the editor shows why) or end a campaign."""
    campaign = campaign_or_404(slug)
    base = base_version(request.form)
    if base is None:
        abort(400)
    status = STATUS_CHANGES[change][0]
    version = campaign.version
    try:
        store.set_status(campaign, status, base, current_user.email)
    except store.Invalid as error:
        form = from_document(store.editing(campaign))
        show_problems(form, error.problems, list(range(form.slots)))
        summary = _("Not published: a live campaign needs the fields marked below.")
        return editor_page(form, campaign, 400, summary=summary)
    except store.Conflict as conflict:
        flash(conflict_note(conflict.campaign, base), "error")
        return redirect(_edit_url(slug), 303)
    if campaign.version == version:  # already so: nothing was published or ended
        flash(_("Nothing changed: still version %(version)s.", version=version))
        return redirect(_edit_url(slug), 303)
    kind = audit.CAMPAIGN_PUBLISH if status == "live" else audit.CAMPAIGN_END
    audit.record(kind, slug, detail=str(campaign.version))
    db.session.commit()
    live.forget()
    if status == "live":
        flash(
            _(
                "Published version %(version)s: readers see “%(name)s” while its dates allow.",
                version=campaign.version,
                name=campaign.name,
            )
        )
    else:
        flash(_("Ended: readers no longer see “%(name)s”.", name=campaign.name))
    return redirect(_edit_url(slug), 303)


@bp.get("/campaigns/<slug>/end")
@editor_required
def campaign_end_confirm(slug: str):
    """Ask before ending, saying what readers will see instead, per language."""
    campaign = campaign_or_404(slug)
    if campaign.status != "live":
        return redirect(_edit_url(slug))
    instead = {lang: live.instead_of(slug, lang) for lang in LANGUAGES}
    return render_template(
        "staff/campaign_end.html", campaign=campaign, instead=instead, languages=LANGUAGES
    )


@bp.post("/campaigns/<slug>/discard")
@editor_required
def campaign_discard(slug: str):
    """Drop a live campaign's draft; readers' version is the editor's again."""
    campaign = campaign_or_404(slug)
    base = base_version(request.form)
    if base is None:
        abort(400)
    try:
        store.discard_draft(campaign, base, current_user.email)
    except store.Conflict as conflict:
        flash(conflict_note(conflict.campaign, base), "error")
        return redirect(_edit_url(slug), 303)
    db.session.commit()
    flash(_("Draft discarded: the editor shows the published version again."))
    return redirect(_edit_url(slug), 303)


def _source(slug: str) -> dict:
    """The document to copy: the default campaign's, or a saved one's."""
    if slug == DEFAULT_SLUG:
        return default_document()
    return store.editing(campaign_or_404(slug))


@bp.route("/campaigns/<slug>/duplicate", methods=["GET", "POST"])
@editor_required
def campaign_duplicate(slug: str):
    """A draft copy under a new slug and name (asked first)."""
    source = _source(slug)
    values = {"slug": f"{slug}-copy", "name": _("Copy of %(name)s", name=source["name"])}
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    status = 200
    if request.method == "POST":
        values = {key: request.form.get(key, "").strip() for key in ("slug", "name")}
        try:
            campaign = store.duplicate(source, values["slug"], values["name"], current_user.email)
        except store.Invalid as error:
            for problem in error.problems:
                if problem.path in values:
                    errors.setdefault(problem.path, []).append(problem.message)
                else:
                    general.append(f"{problem.path}: {problem.message}")
            status = 400
        else:
            db.session.commit()
            live.forget()
            flash(_("Copied as the draft “%(name)s”.", name=campaign.name))
            return redirect(_edit_url(campaign.slug), 303)
    return render_template(
        "staff/campaign_duplicate.html",
        source=source,
        values=values,
        errors=errors,
        general=general,
    ), status


@bp.get("/campaigns/<slug>/history")
@staff_required
def campaign_history(slug: str):
    """Every saved version, newest first: who, when, what they did and changed."""
    campaign = campaign_or_404(slug)
    rows = [
        (revision, action_label(revision.action), field_labels(json.loads(revision.changes)))
        for revision in campaign.revisions
    ]
    return render_template(
        "staff/campaign_history.html",
        campaign=campaign,
        rows=rows,
        can_edit=current_user.can_edit_campaigns,
    )


@bp.route("/campaigns/<slug>/revert/<int:version>", methods=["GET", "POST"])
@editor_required
def campaign_revert(slug: str, version: int):
    """Ask, then save version `version`'s content again as the newest version."""
    campaign = campaign_or_404(slug)
    old = store.revision(campaign, version)
    if old is None:
        abort(404)
    if request.method == "GET":
        return render_template("staff/campaign_revert.html", campaign=campaign, old=old)
    base = base_version(request.form)
    if base is None:
        abort(400)
    try:
        store.revert(campaign, version, base, current_user.email)
    except store.Invalid as error:
        problems = "; ".join(f"{p.path}: {p.message}" for p in error.problems)
        flash(
            _(
                "Version %(version)s cannot be restored: %(problems)s",
                version=version,
                problems=problems,
            ),
            "error",
        )
        return redirect(url_for("staff.campaign_history", slug=slug), 303)
    except store.Conflict as conflict:
        flash(conflict_note(conflict.campaign, base), "error")
        return redirect(url_for("staff.campaign_history", slug=slug), 303)
    audit.record(audit.CAMPAIGN_REVERT, slug, detail=f"{version}:{campaign.version}")
    db.session.commit()
    live.forget()
    flash(
        _(
            "Version %(old)s restored as version %(new)s.",
            old=version,
            new=campaign.version,
        )
    )
    return redirect(url_for("staff.campaign_history", slug=slug), 303)
