"""Two saves of one campaign version put together: fields apart merge, the same field asks."""

from __future__ import annotations

import copy

from support.campaigns.merge import MINE, THEIRS, merge, put, value_at
from tests.helpers.campaigns import sample


def changed(doc: dict, *changes: tuple[str, object]) -> dict:
    out = copy.deepcopy(doc)
    for path, value in changes:
        put(out, path, value)
    return out


def test_paths_read_and_write_nested_fields():
    doc = sample()
    assert value_at(doc, "banner.variants[1].cta.ar") == "انضم إليهم"
    assert value_at(doc, "banner.variants[7].cta.ar") is None
    assert value_at(doc, "goal.supporters.x") is None
    put(doc, "presets.usd", [1, 2])
    assert doc["presets"]["usd"] == [1, 2]


def test_different_fields_are_both_kept():
    base = sample()
    mine = changed(base, ("appeal.ar.headline", "عنوان"), ("banner.variants[0].weight", 5))
    theirs = changed(base, ("name", "Theirs"), ("banner.variants[1].cta.en", "Go"))
    result = merge(base, mine, theirs)
    assert result.conflicts == []
    assert result.mine == ["appeal.ar.headline", "banner.variants[0].weight"]
    assert result.theirs == ["name", "banner.variants[1].cta.en"]
    doc = result.document
    assert doc["name"] == "Theirs" and doc["appeal"]["ar"]["headline"] == "عنوان"
    assert doc["banner"]["variants"][0]["weight"] == 5
    assert doc["banner"]["variants"][1]["cta"]["en"] == "Go"
    assert base == sample()  # nothing given is changed


def test_the_same_change_twice_is_no_conflict():
    base = sample()
    both = changed(base, ("name", "Same"))
    result = merge(base, both, copy.deepcopy(both))
    assert result.conflicts == [] and result.document["name"] == "Same"


def test_the_same_field_changed_differently_waits_for_a_choice():
    base = sample()
    mine = changed(base, ("name", "Mine"), ("default_frequency", "year"))
    theirs = changed(base, ("name", "Theirs"))
    waiting = merge(base, mine, theirs)
    assert waiting.conflicts == ["name"] and waiting.document["name"] == "Theirs"
    assert waiting.document["default_frequency"] == "year"
    assert merge(base, mine, theirs, {"name": MINE}).document["name"] == "Mine"
    kept = merge(base, mine, theirs, {"name": THEIRS})
    assert kept.conflicts == [] and kept.document["name"] == "Theirs"
    assert merge(base, mine, theirs, {"name": "nonsense"}).conflicts == ["name"]


def test_a_removed_variant_against_an_edited_one_is_one_conflict():
    base = sample()
    mine = copy.deepcopy(base)
    del mine["banner"]["variants"][1]
    theirs = changed(base, ("banner.variants[1].cta.en", "Go"), ("banner.variants[0].name", "dawn"))
    result = merge(base, mine, theirs)
    assert result.conflicts == ["banner.variants"]
    chosen = merge(base, mine, theirs, {"banner.variants": MINE}).document
    assert [v["name"] for v in chosen["banner"]["variants"]] == ["iftar"]


def test_a_goal_added_by_one_and_changed_by_none():
    base = sample(goal=None)
    mine = changed(base, ("goal", {"supporters": 50}))
    theirs = changed(base, ("presets.usd", [4]))
    doc = merge(base, mine, theirs).document
    assert doc["goal"] == {"supporters": 50} and doc["presets"]["usd"] == [4]
