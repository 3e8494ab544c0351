"""Campaigns saved: create, edit (never over someone else's save), publish, end, revert.

Every save writes the whole document as a new `CampaignRevision` with who saved it
and which fields changed, and bumps `Campaign.version`. A save names the version it
was based on; if someone saved in between, it is refused with `Conflict` and the
other save is left as it is. Nothing here commits: the caller does, once.

Editing a live campaign never changes what readers see: the edit (or a revert) is
kept as the campaign's draft, the next version, which an editor previews and then
publishes (`publish`). A campaign that is not live has no readers, so its edits are
saved in place and publishing puts them live.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from support import audit
from support.campaigns.document import SLUG, Problem, changed_paths, to_json, validate
from support.extensions import db
from support.models import Campaign, CampaignRevision, utcnow


class Invalid(ValueError):
    """The document has problems; nothing was saved."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class Conflict(Exception):
    """Someone saved the campaign after the version this save was based on."""

    def __init__(self, campaign: Campaign):
        super().__init__(f"{campaign.slug} was saved meanwhile (now version {campaign.version})")
        self.campaign = campaign


def document(campaign: Campaign) -> dict:
    """The campaign as a JSON document (export's shape)."""
    content = json.loads(campaign.content)
    doc = {
        "slug": campaign.slug,
        "name": campaign.name,
        "status": campaign.status,
        "starts_at": campaign.starts_at,
        "ends_at": campaign.ends_at,
        **content,
    }
    return to_json(doc)


def editing(campaign: Campaign) -> dict:
    """What the editor works on: the draft of the next version when there is one, else
    the saved document (with the campaign's own status)."""
    if campaign.draft is None:
        return document(campaign)
    return {**json.loads(campaign.draft), "status": campaign.status}


def has_draft(campaign: Campaign) -> bool:
    """Whether the campaign has changes saved that readers do not see yet."""
    return campaign.draft is not None


def get(slug: str) -> Campaign | None:
    """The campaign called `slug`; None also for text no slug can be (from a URL, say:
    PostgreSQL would refuse a NUL in it)."""
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        return None
    return db.session.scalar(sa.select(Campaign).where(Campaign.slug == slug))


def all_campaigns() -> list[Campaign]:
    """Live first, then drafts, then ended; newest first within each."""
    order = sa.case({"live": 0, "draft": 1}, value=Campaign.status, else_=2)
    return list(db.session.scalars(sa.select(Campaign).order_by(order, Campaign.updated_at.desc())))


def _checked(data: dict) -> dict:
    doc, problems = validate(data)
    if problems:
        raise Invalid(problems)
    return doc


def _write(campaign: Campaign, doc: dict) -> None:
    campaign.slug = doc["slug"]
    campaign.name = doc["name"]
    campaign.status = doc["status"]
    campaign.starts_at = doc["starts_at"]
    campaign.ends_at = doc["ends_at"]
    content = {k: v for k, v in to_json(doc).items() if k not in _COLUMNS}
    campaign.content = json.dumps(content, ensure_ascii=False, sort_keys=True)


_COLUMNS = ("slug", "name", "status", "starts_at", "ends_at")


def _record(campaign: Campaign, action: str, author: str | None, before: dict | None) -> None:
    after = editing(campaign)
    changes = changed_paths(before, after) if before is not None else []
    db.session.add(
        CampaignRevision(
            campaign=campaign,
            version=campaign.version,
            action=action,
            document=json.dumps(after, ensure_ascii=False, sort_keys=True),
            changes=json.dumps(changes),
            author=author,
        )
    )


def create(data: dict, author: str | None, action: str = "created") -> Campaign:
    """A new campaign from a document; `Invalid` if it has problems or its slug is taken."""
    doc = _checked(data)
    if get(doc["slug"]) is not None:
        raise Invalid([Problem("slug", _taken())])
    campaign = Campaign(version=1, updated_by=author, updated_at=utcnow())
    _write(campaign, doc)
    db.session.add(campaign)
    db.session.flush()
    _record(campaign, action, author, None)
    return campaign


def _taken() -> str:
    return str(_l("is already used by another campaign"))


# Saves that become a live campaign's draft instead of reaching readers at once.
DRAFTING = {"edited": "drafted", "reverted": "reverted"}


def save(
    campaign: Campaign, data: dict, base_version: int, author: str | None, action: str = "edited"
) -> Campaign:
    """Save `data` over `campaign` if nobody saved since `base_version`.

    An edit or revert of a live campaign that stays live is saved as its draft (the
    action recorded is then "drafted" or "reverted"); anything else writes the
    campaign itself and drops the draft, except ending, which keeps it for later.
    The version check is part of the UPDATE itself, so of two editors saving at the
    same moment exactly one wins and the other gets `Conflict`.
    """
    doc = _checked(data)
    if doc["slug"] != campaign.slug and get(doc["slug"]) is not None:
        raise Invalid([Problem("slug", _taken())])
    drafting = campaign.status == "live" and doc["status"] == "live" and action in DRAFTING
    # Publishing is measured against what readers saw; anything else against the editor's.
    before = document(campaign) if action == "published" else editing(campaign)
    if drafting or action == "ended" or campaign.draft is None:
        unchanged = to_json(doc) == before
    else:  # writing the campaign itself drops its draft: a change even when the copy is same
        unchanged = False
    if unchanged and base_version == campaign.version:
        return campaign  # nothing changed: no new version
    if drafting:
        # Typed back to what readers see: no draft is left to publish.
        same = to_json(doc) == document(campaign)
        values = {"draft": None if same else json.dumps(to_json(doc), ensure_ascii=False)}
        action = DRAFTING[action]
    else:
        staged = Campaign()
        _write(staged, doc)
        values = {
            "slug": staged.slug,
            "name": staged.name,
            "status": staged.status,
            "starts_at": staged.starts_at,
            "ends_at": staged.ends_at,
            "content": staged.content,
        }
        if action != "ended":
            values["draft"] = None
    result = db.session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.version == base_version)
        .values(**values, version=Campaign.version + 1, updated_at=utcnow(), updated_by=author)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(campaign)
    if result.rowcount != 1:
        raise Conflict(campaign)
    _record(campaign, action, author, before)
    return campaign


def set_status(campaign: Campaign, status: str, base_version: int, author: str | None) -> Campaign:
    """Publish (`live`) or end (`ended`) a campaign; a live one must be complete.

    Publishing puts the editor's latest version live (a live campaign's draft, or a
    draft campaign as saved); ending stops the published version and keeps any draft.
    """
    source = document(campaign) if status == "ended" else editing(campaign)
    data = {**source, "status": status}
    action = {"live": "published", "ended": "ended", "draft": "unpublished"}[status]
    return save(campaign, data, base_version, author, action)


def discard_draft(campaign: Campaign, base_version: int, author: str | None) -> Campaign:
    """Drop a live campaign's draft: the editor goes back to what readers see."""
    if campaign.draft is None:
        return campaign
    before = editing(campaign)
    result = db.session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.version == base_version)
        .values(draft=None, version=Campaign.version + 1, updated_at=utcnow(), updated_by=author)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(campaign)
    if result.rowcount != 1:
        raise Conflict(campaign)
    _record(campaign, "discarded", author, before)
    return campaign


def duplicate(source: dict, slug: str, name: str, author: str | None) -> Campaign:
    """A draft copy of a document (a campaign's, or the default campaign's) under a new slug."""
    data = {**source, "slug": slug, "name": name, "status": "draft"}
    return create(data, author, action="duplicated")


def revision(campaign: Campaign, version: int) -> CampaignRevision | None:
    return db.session.scalar(
        sa.select(CampaignRevision).where(
            CampaignRevision.campaign_id == campaign.id, CampaignRevision.version == version
        )
    )


def revert(campaign: Campaign, version: int, base_version: int, author: str | None) -> Campaign:
    """Save an earlier version's content again, as a new version; the status stays.

    Going back changes what the campaign says, not whether it is running: a live
    campaign reverted to a draft's copy stays live (and so must be complete), and
    the old copy becomes its draft, to preview and publish like any edit.
    """
    old = revision(campaign, version)
    if old is None:
        raise LookupError(version)
    data = {**json.loads(old.document), "status": campaign.status, "slug": campaign.slug}
    return save(campaign, data, base_version, author, action="reverted")


def import_documents(items: list, author: str | None) -> list[tuple[str, str]]:
    """Create or update each document by slug, all or nothing.

    Every problem in every document is collected first (`Invalid`, with paths
    like `[1].banner.variants[0].name`); only a file without any is applied.
    Returns (slug, "created" | "updated" | "unchanged") per document.
    """
    problems: list[Problem] = []
    slugs: set[str] = set()
    for index, item in enumerate(items):
        doc, found = validate(item)
        problems += [Problem(f"[{index}].{p.path}", p.message) for p in found]
        if doc.get("slug") in slugs:
            problems.append(Problem(f"[{index}].slug", "appears twice in the file"))
        slugs.add(doc.get("slug"))
    if problems:
        raise Invalid(problems)
    outcome = []
    for item in items:
        campaign = get(item["slug"])
        before = campaign.status if campaign is not None else "draft"
        if campaign is None:
            campaign = create(item, author, action="imported")
            outcome.append((item["slug"], "created"))
        else:
            version = campaign.version
            save(campaign, item, version, author, action="imported")
            outcome.append(
                (item["slug"], "updated" if campaign.version != version else "unchanged")
            )
        _audit_status_change(campaign, before)
    return outcome


def _audit_status_change(campaign: Campaign, before: str) -> None:
    """An import that puts a campaign live or ends it is a publish or an end, audited
    like the editor's buttons (who: the signed-in admin, or the command line)."""
    kinds = {"live": audit.CAMPAIGN_PUBLISH, "ended": audit.CAMPAIGN_END}
    if campaign.status != before and campaign.status in kinds:
        audit.record(kinds[campaign.status], campaign.slug, detail=str(campaign.version))
