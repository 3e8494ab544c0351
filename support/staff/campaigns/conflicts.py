"""When two editors saved the same version: merge what does not collide, ask about the rest.

The second save (`settle`) is put together with the first (`campaigns.merge`):
fields only one editor changed are kept from both and the merged version is saved
at once, with a note saying so. Fields both changed are shown side by side; the
editor picks one value per field and saves (`campaign_merge`), and if yet another
save came in meanwhile the same happens again against it.
"""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from support.campaigns import live, store
from support.campaigns.document import to_json, validate
from support.campaigns.merge import MINE, THEIRS, merge, value_at
from support.extensions import db
from support.json_input import JSONInputError, loads_object
from support.models import Campaign
from support.staff import bp
from support.staff.auth.access import editor_required
from support.staff.campaigns.form import from_document, show_problems
from support.staff.campaigns.labels import field_label, field_labels
from support.staff.campaigns.views import base_version, saved_note

# Saves racing in while an editor settles a conflict: try again this often, then ask.
ATTEMPTS = 3


def shown(value) -> str:
    """A field's value as the conflict page shows it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return str(value)


def settle(campaign: Campaign, mine: dict, mine_base: int, choices: dict[str, str] | None = None):
    """Save `mine` (based on `mine_base`) together with whatever was saved since.

    Answers the redirect after a merged save, the choice page (409) when a field
    collides, or the editor with the problems when the merged version is refused.
    """
    base = store.revision(campaign, mine_base)
    if base is None:
        abort(400)
    # A campaign keeps its slug, and its status is changed by publishing or ending only.
    normalised, problems = validate({**mine, "slug": campaign.slug, "status": campaign.status})
    if problems:
        abort(400)  # the editor's own save passed these checks: this was not it
    mine = to_json(normalised)
    for _attempt in range(ATTEMPTS):
        theirs = store.editing(campaign)
        result = merge(json.loads(base.document), mine, theirs, choices)
        if result.conflicts:
            return _choice_page(campaign, base, mine, theirs, result)
        try:
            store.save(campaign, result.document, campaign.version, current_user.email)
        except store.Conflict:
            continue
        except store.Invalid as error:
            form = from_document(result.document)
            show_problems(form, error.problems, list(range(form.slots)))
            from support.staff.campaigns.routes import editor_page

            return editor_page(form, campaign, 400, base=campaign.version)
        db.session.commit()
        live.forget()
        others = [p for p in result.theirs if p not in result.mine]
        flash(
            _(
                "Merged with the changes saved meanwhile: yours (%(mine)s) and theirs "
                "(%(theirs)s) are both in version %(version)s.",
                mine=field_labels(result.mine),
                theirs=field_labels(others),
                version=campaign.version,
            )
        )
        if store.has_draft(campaign):
            flash(saved_note(campaign))
        return redirect(url_for("staff.campaign_edit", slug=campaign.slug), 303)
    abort(409)


def _choice_page(campaign: Campaign, base, mine: dict, theirs: dict, result):
    rows = [
        {
            "path": path,
            "label": field_label(path),
            "theirs": shown(value_at(theirs, path)),
            "mine": shown(value_at(mine, path)),
        }
        for path in result.conflicts
    ]
    return render_template(
        "staff/campaign_conflict.html",
        campaign=campaign,
        rows=rows,
        merged=field_labels(result.mine) if result.mine else None,
        mine=json.dumps(mine, ensure_ascii=False),
        mine_base=base.version,
    ), 409


@bp.post("/campaigns/<slug>/merge")
@editor_required
def campaign_merge(slug: str):
    """Save the editor's version with one value chosen for each field both editors changed."""
    from support.staff.campaigns.routes import campaign_or_404

    campaign = campaign_or_404(slug)
    mine_base = base_version({"base_version": request.form.get("mine_base")})
    try:
        mine = loads_object(request.form.get("mine", ""))
    except JSONInputError:
        abort(400)
    if mine_base is None:
        abort(400)
    choices = {
        key.removeprefix("choice:"): value
        for key, value in request.form.items()
        if key.startswith("choice:") and value in (MINE, THEIRS)
    }
    return settle(campaign, mine, mine_base, choices)
