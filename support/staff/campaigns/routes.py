"""Staff pages for campaigns: the list, the editor (new and edit) and the preview.

Everyone signed in sees them; only editors and admins change anything
(`editor_required`, or the check in `campaign_edit` for its POST).
"""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from support.appeal.forms import AppealForm
from support.appeal.page import preselect, render_appeal
from support.campaigns import live, store
from support.campaigns.document import DEFAULT_SLUG, MAX_VARIANTS
from support.choices import FREQUENCIES, LANGUAGES
from support.extensions import db
from support.models import Campaign, utcnow
from support.security import page_policy
from support.staff import bp
from support.staff.auth.access import editor_required, staff_required
from support.staff.campaigns import conflicts
from support.staff.campaigns.default import default_document
from support.staff.campaigns.form import (
    EditorForm,
    from_document,
    from_request,
    limit,
    show_problems,
    to_document,
)
from support.staff.campaigns.labels import STAGES, stage
from support.staff.campaigns.views import (
    as_running,
    banner_previews,
    base_version,
    conflict_note,
    saved_note,
)


def campaign_or_404(slug: str) -> Campaign:
    """The saved campaign named `slug`, or 404."""
    campaign = store.get(slug)
    if campaign is None:
        abort(404)
    return campaign


def editor_page(
    form: EditorForm,
    campaign: Campaign | None,
    status: int = 200,
    conflict: str | None = None,
    base: int | None = None,
    summary: str | None = None,
):
    """The editor with `form` (new when `campaign` is None).

    `base` is the version the form is based on: the campaign's latest unless the
    editor sent the form back (refused, or more slots), when it stays what they
    started from, so a later save still cannot overwrite someone else's.
    """
    if base is None:
        base = campaign.version if campaign else 0
    return render_template(
        "staff/campaign_form.html",
        form=form,
        campaign=campaign,
        base=base,
        conflict=conflict,
        summary=summary or _("Nothing was saved. Please correct the fields marked below."),
        stage=stage(campaign, utcnow()) if campaign else None,
        has_draft=bool(campaign) and store.has_draft(campaign),
        stages=STAGES,
        limit=limit,
        currencies=current_app.config["SUPPORT_CURRENCIES"],
        frequencies=FREQUENCIES,
        languages=LANGUAGES,
        max_variants=MAX_VARIANTS,
        can_edit=current_user.can_edit_campaigns,
    ), status


@bp.get("/campaigns")
@staff_required
def campaign_list():
    """Every campaign, live first, and the default one (read-only)."""
    now = utcnow()
    rows = [
        (campaign, stage(campaign, now), store.document(campaign))
        for campaign in store.all_campaigns()
    ]
    return render_template(
        "staff/campaigns.html",
        rows=rows,
        stages=STAGES,
        default=default_document(),
        default_slug=DEFAULT_SLUG,
        can_edit=current_user.can_edit_campaigns,
    )


def _add_slot(form: EditorForm) -> bool:
    """Whether "Add a variant" was pressed (then one more slot, nothing saved)."""
    if request.form.get("action") != "add_variant":
        return False
    form.slots = min(form.slots + 1, MAX_VARIANTS)
    return True


@bp.route("/campaigns/new", methods=["GET", "POST"])
@editor_required
def campaign_new():
    """Start a campaign: a draft, until it is published."""
    if request.method == "GET":
        return editor_page(EditorForm({"default_frequency": "month"}, 2), None)
    form = from_request(request.form)
    if _add_slot(form):
        return editor_page(form, None)
    doc, slots = to_document(form, form.value("slug").strip(), "draft")
    try:
        campaign = store.create(doc, current_user.email)
    except store.Invalid as error:
        show_problems(form, error.problems, slots)
        return editor_page(form, None, 400)
    db.session.commit()
    live.forget()
    flash(_("Campaign “%(name)s” created as a draft.", name=campaign.name))
    return redirect(url_for("staff.campaign_edit", slug=campaign.slug), 303)


@bp.route("/campaigns/<slug>", methods=["GET", "POST"])
@staff_required
def campaign_edit(slug: str):
    """A campaign's editor (read-only for viewers); saving keeps the status."""
    if slug == DEFAULT_SLUG:
        return redirect(url_for("staff.campaign_list"))
    campaign = campaign_or_404(slug)
    if request.method == "GET":
        return editor_page(from_document(store.editing(campaign)), campaign)
    if not current_user.can_edit_campaigns:
        abort(403)
    form = from_request(request.form)
    base = base_version(request.form)
    if base is None:
        abort(400)
    if _add_slot(form):
        return editor_page(form, campaign, base=base)
    doc, slots = to_document(form, campaign.slug, campaign.status)
    try:
        store.save(campaign, doc, base, current_user.email)
    except store.Invalid as error:
        show_problems(form, error.problems, slots)
        return editor_page(form, campaign, 400, base=base)
    except store.Conflict:
        if store.revision(campaign, base) is None:  # a version this campaign never had
            note = conflict_note(campaign, base)
            return editor_page(form, campaign, 409, conflict=note, base=base)
        return conflicts.settle(campaign, doc, base)
    db.session.commit()
    live.forget()
    if campaign.version == base:  # the store keeps no version that changes nothing
        flash(_("Nothing changed: still version %(version)s.", version=base))
    else:
        flash(saved_note(campaign))
    return redirect(url_for("staff.campaign_edit", slug=campaign.slug), 303)


@bp.get("/campaigns/<slug>/preview")
@staff_required
def campaign_preview(slug: str):
    """The appeal and every banner variant in both languages, as readers will see them.

    Nothing here counts: banner.js runs in preview mode (no beacons, nothing kept).
    """
    campaign = campaign_or_404(slug)
    running = as_running(campaign)
    prefixes = running.prefixes
    return render_template(
        "staff/campaign_preview.html",
        campaign=campaign,
        stage=stage(campaign, utcnow()),
        stages=STAGES,
        banners=banner_previews(running),
        languages=LANGUAGES,
        source=prefixes[0] if prefixes else "",
        has_draft=store.has_draft(campaign),
        can_edit=current_user.can_edit_campaigns,
    )


@bp.get("/campaigns/<slug>/preview/<lang>/")
@staff_required
def campaign_preview_appeal(slug: str, lang: str):
    """The reader appeal page in `lang` with this campaign, for the preview's frames."""
    if lang not in LANGUAGES:
        abort(404)
    campaign = as_running(campaign_or_404(slug))
    g.lang = lang
    with force_locale(lang):
        form = AppealForm(formdata=preselect({"campaign": slug}, preview=campaign))
        html = render_appeal(form, preview=campaign)
    # Only the staff preview itself may frame it.
    return html, 200, {"Content-Security-Policy": page_policy("'self'")}
