"""Campaigns as documents: their rules, saving with versions and conflicts, import and export."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from support.campaigns import document, live, store
from support.config import ConfigError, load_config
from support.extensions import db
from support.models import Campaign, CampaignRevision, utcnow
from support.staff.campaigns.default import default_document
from tests.helpers.campaigns import sample


def paths(problems) -> set[str]:
    return {p.path for p in problems}


@pytest.mark.one_database
def test_a_complete_campaign_is_valid_and_round_trips(app):
    doc, problems = document.validate(sample())
    assert problems == []
    assert document.validate(document.to_json(doc)) == (doc, [])


@pytest.mark.one_database
@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "banner"}, "slug"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"status": "paused"}, "status"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"starts_at": "2026-12-01T09:00:00"}, "starts_at"),  # no offset
        ({"starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z"}, "ends_at"),
        ({"goal": {"supporters": 0}}, "goal.supporters"),
        ({"goal": {"supporters": "many"}}, "goal.supporters"),
        ({"presets": {"eur": [5]}}, "presets.eur"),
        ({"presets": {"usd": [0.5]}}, "presets.usd[0]"),
        ({"presets": {"usd": [1.234]}}, "presets.usd[0]"),
        ({"presets": {"usd": [5, 5]}}, "presets.usd"),
        # money.py's rules, as for a reader's typed amount: no exponents, signs or words.
        ({"presets": {"usd": ["1e1"]}}, "presets.usd[0]"),
        ({"presets": {"usd": ["-5"]}}, "presets.usd[0]"),
        ({"presets": {"usd": ["Infinity"]}}, "presets.usd[0]"),
        ({"presets": {"usd": ["0.50"]}}, "presets.usd[0]"),
        ({"presets": {"usd": [20000]}}, "presets.usd[0]"),
        ({"default_frequency": "weekly"}, "default_frequency"),
        ({"targeting": {"langs": ["fr"]}}, "targeting.langs"),
        ({"targeting": {"url_prefixes": ["https://evil.example/"]}}, "targeting.url_prefixes[0]"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_each_bad_field_is_named(app, change, path):
    assert path in paths(document.validate(sample(**change))[1])


@pytest.mark.one_database
def test_variant_and_copy_problems_are_named_at_their_path(app):
    bad = sample()
    variants = bad["banner"]["variants"]
    variants[1]["name"] = "iftar"  # twice
    variants[0]["headline"]["ar"] = "x" * 121
    variants[0]["cta"]["en"] = "Give\x07now"
    variants[0]["weight"] = 0
    found = paths(document.validate(bad)[1])
    assert {
        "banner.variants[1].name",
        "banner.variants[0].headline.ar",
        "banner.variants[0].cta.en",
        "banner.variants[0].weight",
    } <= found


@pytest.mark.one_database
def test_a_draft_may_be_half_written_but_a_live_campaign_must_be_complete(app):
    half = sample()
    half["appeal"]["ar"] = {"headline": "", "body": ""}
    half["banner"]["variants"][1]["cta"]["ar"] = ""
    assert document.validate(half)[1] == []
    live_problems = paths(document.validate({**half, "status": "live"})[1])
    assert live_problems == {
        "appeal.ar.headline",
        "appeal.ar.body",
        "banner.variants[1].cta.ar",
    }
    # English only: Arabic copy is not needed.
    english = {**half, "status": "live", "targeting": {"langs": ["en"], "url_prefixes": []}}
    assert document.validate(english)[1] == []
    empty = sample(status="live", banner={"optimise": False, "variants": []})
    assert "banner.variants" in paths(document.validate(empty)[1])


@pytest.mark.one_database
def test_line_breaks_are_kept_and_control_characters_refused(app):
    doc, problems = document.validate(sample(name="Two\r\nlines"))
    assert problems == [] and doc["name"] == "Two\nlines"
    assert "name" in paths(document.validate(sample(name="bell\x07"))[1])


@pytest.mark.one_database
def test_problems_speak_the_editors_language(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("ar"):
        [problem] = document.validate(sample(default_frequency="weekly"))[1]
    assert problem.path == "default_frequency"
    assert problem.message != "must be month, year or once"


def test_every_save_is_a_revision_with_author_and_changes(app):
    campaign = store.create(sample(), "layla@example.org")
    edited = sample(name="Ramadan 2027")
    edited["banner"]["variants"][0]["text"]["ar"] = "نص جديد"
    store.save(campaign, edited, 1, "omar@example.org")
    db.session.commit()
    assert campaign.version == 2 and campaign.updated_by == "omar@example.org"
    first, second = db.session.scalars(
        sa.select(CampaignRevision).order_by(CampaignRevision.version)
    ).all()
    assert (first.action, first.author, first.version) == ("created", "layla@example.org", 1)
    assert (second.action, second.author) == ("edited", "omar@example.org")
    assert json.loads(second.changes) == ["name", "banner.variants[0].text.ar"]
    assert json.loads(second.document)["name"] == "Ramadan 2027"


def test_saving_nothing_new_makes_no_version(app):
    campaign = store.create(sample(), None)
    store.save(campaign, sample(), 1, None)
    assert campaign.version == 1


def test_the_second_of_two_saves_on_one_version_is_a_conflict(app):
    campaign = store.create(sample(), "layla@example.org")
    db.session.commit()
    store.save(campaign, sample(name="Layla's"), 1, "layla@example.org")
    db.session.commit()
    with pytest.raises(store.Conflict) as conflict:
        store.save(campaign, sample(name="Omar's"), 1, "omar@example.org")
    db.session.rollback()
    assert conflict.value.campaign.updated_by == "layla@example.org"
    assert store.get("ramadan").name == "Layla's"
    assert store.get("ramadan").version == 2


def test_publishing_an_incomplete_campaign_is_refused(app):
    half = sample()
    half["appeal"]["en"]["headline"] = ""
    campaign = store.create(half, None)
    with pytest.raises(store.Invalid) as invalid:
        store.set_status(campaign, "live", 1, None)
    assert paths(invalid.value.problems) == {"appeal.en.headline"}
    assert campaign.status == "draft"


def test_revert_brings_back_the_copy_as_a_new_version_and_keeps_the_status(app):
    campaign = store.create(sample(), None)
    store.set_status(campaign, "live", 1, None)
    store.save(campaign, sample(status="live", name="Changed"), 2, None)
    store.revert(campaign, 1, 3, "layla@example.org")
    db.session.commit()
    assert (campaign.name, campaign.status, campaign.version) == ("Ramadan drive", "live", 4)
    assert campaign.revisions[0].action == "reverted"
    with pytest.raises(store.Conflict):
        store.revert(campaign, 1, 3, None)


def test_duplicate_of_the_default_campaign_is_a_draft_in_both_languages(app):
    default = default_document()
    assert [v["name"] for v in default["banner"]["variants"]] == ["monthly", "goal"]
    assert default["appeal"]["ar"]["headline"] != default["appeal"]["en"]["headline"]
    copy = store.duplicate(default, "end-of-year", "End of year", None)
    assert copy.status == "draft" and store.document(copy)["banner"] == default["banner"]


def test_live_only_between_its_start_and_end(app):
    now = utcnow()
    soon = sample("soon", status="live", starts_at=(now + timedelta(hours=1)).isoformat())
    over = sample("over", status="live", ends_at=(now - timedelta(seconds=1)).isoformat())
    running = sample("running", status="live", ends_at=(now + timedelta(days=1)).isoformat())
    draft = sample("draft")
    for doc in (soon, over, running, draft):
        store.create(doc, None)
    db.session.commit()
    live.forget()
    assert [c.slug for c in live.running("en")] == ["running"]
    later = live.load(now + timedelta(hours=2))
    assert {c.slug for c in later.running} == {"running", "soon"}
    # The snapshot lapses when "soon" starts, not 30 s later.
    assert later.expires - live.snapshot().expires < 3700


def test_targeted_campaigns_come_first_most_specific_first(app):
    store.create(sample("everywhere", status="live"), None)
    store.create(
        sample("sport", status="live", targeting={"url_prefixes": ["https://news.example.org/"]}),
        None,
    )
    store.create(
        sample(
            "football",
            status="live",
            targeting={"url_prefixes": ["https://news.example.org/sport/football/"]},
        ),
        None,
    )
    store.create(sample("arabic", status="live", targeting={"langs": ["ar"]}), None)
    db.session.commit()
    live.forget()
    assert [c.slug for c in live.running("en")] == ["football", "sport", "everywhere"]
    assert [c.slug for c in live.running("ar")][-1] in {"everywhere", "arabic"}
    with app.test_request_context("/en/"):
        assert live.for_appeal(None, "en").slug == "everywhere"
        assert live.for_appeal("football", "en").slug == "football"
        assert live.for_appeal("arabic", "en") is None
        assert live.for_appeal("nope", "en") is None


def test_export_then_import_round_trips(app, runner, tmp_path):
    store.create(sample(), "layla@example.org")
    store.create(sample("second", name="Second"), None)
    db.session.commit()
    exported = runner.invoke(args=["campaigns", "export"])
    assert exported.exit_code == 0, exported.output
    docs = json.loads(exported.output)
    assert [d["slug"] for d in docs] == ["ramadan", "second"]
    one = json.loads(runner.invoke(args=["campaigns", "export", "ramadan"]).output)
    assert one == store.document(store.get("ramadan"))

    db.session.execute(sa.delete(CampaignRevision))
    db.session.execute(sa.delete(Campaign))
    db.session.commit()
    path = tmp_path / "campaigns.json"
    path.write_text(exported.output, encoding="utf-8")
    imported = runner.invoke(args=["campaigns", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    assert "ramadan: created" in imported.output
    again = runner.invoke(args=["campaigns", "export"])
    assert json.loads(again.output) == docs
    assert "unchanged" in runner.invoke(args=["campaigns", "import", str(path)]).output


def test_an_invalid_import_names_every_problem_and_changes_nothing(app, runner, tmp_path):
    store.create(sample(), None)
    db.session.commit()
    good = sample(name="Changed by import")
    bad = sample("second", default_frequency="weekly")
    bad["banner"]["variants"][0]["cta"]["ar"] = "x" * 41
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([good, bad]), encoding="utf-8")
    result = runner.invoke(args=["campaigns", "import", str(path)])
    assert result.exit_code == 1
    assert "[1].default_frequency: must be month, year or once" in result.output
    assert "[1].banner.variants[0].cta.ar: must be at most 40 characters" in result.output
    assert "nothing was imported" in result.output
    db.session.expire_all()
    assert store.get("ramadan").name == "Ramadan drive"
    assert store.get("second") is None

    path.write_text("{not json", encoding="utf-8")
    result = runner.invoke(args=["campaigns", "import", str(path)])
    assert result.exit_code == 1 and "is not JSON" in result.output


def test_export_of_an_unknown_slug_fails_clearly(app, runner):
    result = runner.invoke(args=["campaigns", "export", "nope"])
    assert result.exit_code == 1 and "no campaign is called 'nope'" in result.output


def test_an_amount_in_an_imported_file_follows_money_rules(app, runner, tmp_path):
    """A JSON number is read as written: `1e1` is no more an amount there than typed."""
    path = tmp_path / "exponent.json"
    text = json.dumps(sample(presets={"usd": [3, 7.5]})).replace("7.5", "1e1")
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["campaigns", "import", str(path)])
    assert result.exit_code == 1
    assert "[0].presets.usd[1]: must be an amount between 1 and 10000" in result.output
    assert store.get("ramadan") is None

    path.write_text(json.dumps(sample(presets={"usd": [3, 7.5]})), encoding="utf-8")
    result = runner.invoke(args=["campaigns", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert store.document(store.get("ramadan"))["presets"] == {"usd": [3, 7.5]}


@pytest.mark.parametrize(
    "variant",
    [
        {"name": "x" * 41},
        {"name": "a", "weight": 101},
        {"name": "a", "weight": 0},
        {"name": "a", "cta": {"en": "x" * 41, "ar": "ادعم"}},
        {"name": "a", "headline": {"en": "Support us", "ar": ""}},
        {"name": "a", "text": {"en": "Plain\x07text", "ar": "نص"}},
        {"name": "a", "colour": "red"},
    ],
)
def test_a_bad_settings_variant_is_named_at_start_up_as_the_editor_names_it(app, variant):
    """The settings' variants form the default campaign: one validator, one message.

    Like a live campaign's, a variant's own words, once given, are needed in both languages.
    """
    editor = sample(status="live")
    editor["banner"]["variants"] = [
        {
            "headline": {"en": "Support us", "ar": "ادعمونا"},
            "text": {"en": "t", "ar": "ن"},
            "cta": {"en": "Give", "ar": "تبرع"},
            **variant,
        }
    ]
    problems = [p for p in document.validate(editor)[1] if p.path.startswith("banner.")]
    assert problems
    with pytest.raises(ConfigError) as refused:
        load_config({"SUPPORT_BANNER_VARIANTS": json.dumps([variant])})
    for problem in problems:
        path = problem.path.replace("banner.variants", "SUPPORT_BANNER_VARIANTS")
        assert f"  - {path}: {problem.message}" in str(refused.value)


def test_the_settings_campaign_obeys_the_editors_rules(app):
    app.config.update(
        load_config(
            {
                "SUPPORT_PRESETS": "2, 7.50",
                "SUPPORT_BANNER_VARIANTS": json.dumps(
                    [
                        {"name": "own", "weight": 2.5, "cta": {"en": "Give", "ar": "تبرع"}},
                        {"name": "goal", "copy": "goal", "amounts": [3, 12]},
                    ]
                ),
            }
        )
    )
    doc, problems = document.validate({**default_document(), "slug": "from-settings"})
    assert problems == []
    assert [(v["name"], v["weight"], v["cta"]["ar"]) for v in doc["banner"]["variants"]] == [
        ("own", 2.5, "تبرع"),
        ("goal", 1, "كن من داعمينا"),
    ]
    assert doc["presets"] == {"usd": [2, 7.5]}
