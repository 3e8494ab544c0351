"""`flask campaigns import` fed type-confused documents: a clear error naming the place of
each problem and exit code 1, never a traceback; nothing is imported from a bad file."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from support.campaigns import store
from support.extensions import db
from support.json_input import key_path
from support.models import Campaign, CampaignRevision
from tests.helpers.campaigns import sample
from tests.odd_inputs import (
    FUZZ,
    broken_json,
    dumps,
    duplicated_key,
    leaf_paths,
    odd_json,
    with_value,
)

# Hypothesis searches for a while: the full suite runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

# Paths may hold spaces inside an escaped key (`appeal["x y"]`).
PROBLEM = re.compile(r"^\s+(.+?): ", re.MULTILINE)
FILE_PROBLEM = re.compile(r"is not a campaign file: (.+?): ")


def import_file(runner, path, body: bytes):
    path.write_bytes(body)
    result = runner.invoke(args=["campaigns", "import", str(path)])
    # A refusal is click's own exit (code 1), never an exception escaping the command.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def spelled(path: tuple) -> str:
    """A path as the import names it (`banner.variants[0].name`)."""
    text = ""
    for step in path:
        text = key_path(text, step)
    return text


def related(found: str, changed: str) -> bool:
    """Whether a problem at `found` is about the value put at `changed` (or inside it)."""
    return any(
        a == b or a.startswith(b + ".") or a.startswith(b + "[")
        for a, b in ((found, changed), (changed, found))
    )


@FUZZ
@given(data=st.data(), value=odd_json)
def test_any_value_at_any_path_is_imported_or_named_at_its_path(app, runner, tmp_path, data, value):
    document = sample(starts_at="2027-02-18T00:00:00Z", presets={"usd": [3, 7.5, 15]})
    path = data.draw(st.sampled_from(leaf_paths(document)))
    result = import_file(runner, tmp_path / "c.json", dumps(with_value(document, path, value)))
    db.session.expire_all()
    if result.exit_code == 0:
        assert "ramadan: created" in result.output or "ramadan" not in json.dumps(value)
        db.session.execute(sa.delete(CampaignRevision))
        db.session.execute(sa.delete(Campaign))
        db.session.commit()
        return
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    found = [p.removeprefix("[0].") for p in PROBLEM.findall(result.output)]
    found += FILE_PROBLEM.findall(result.output)
    assert any(related(place, spelled(path)) for place in found), (path, result.output)
    assert store.all_campaigns() == []


@FUZZ
@given(data=st.data(), value=odd_json)
def test_a_key_given_twice_is_refused_naming_it(app, runner, tmp_path, data, value):
    document = sample(starts_at="2027-02-18T00:00:00Z", presets={"usd": [3, 7.5, 15]})
    key = data.draw(st.sampled_from(list(document)))
    result = import_file(runner, tmp_path / "c.json", duplicated_key(document, key, value))
    assert result.exit_code == 1
    assert f"is not a campaign file: {key}: is given twice" in result.output
    assert store.all_campaigns() == []


@FUZZ
@given(body=broken_json)
def test_a_file_that_is_not_a_json_document_is_refused_clearly(app, runner, tmp_path, body):
    result = import_file(runner, tmp_path / "c.json", body)
    assert result.exit_code == 1
    assert "Error: " in result.output and "c.json" in result.output


def test_a_list_inside_the_languages_is_named_not_a_traceback(app, runner, tmp_path):
    document = sample(starts_at="2027-02-18T00:00:00Z", presets={"usd": [3, 7.5, 15]})
    document["targeting"]["langs"] = [["en"], "ar"]
    result = import_file(runner, tmp_path / "c.json", dumps(document))
    assert result.exit_code == 1
    assert "[0].targeting.langs: must be a list of en and ar" in result.output


def test_odd_keys_are_named_printably(app, runner, tmp_path):
    document = sample(starts_at="2027-02-18T00:00:00Z", presets={"usd": [3, 7.5, 15]})
    document["appeal"]["en\x1b[31m"] = {}
    document["presets"]["\u202eusd"] = [1]
    result = import_file(runner, tmp_path / "c.json", dumps(document))
    assert result.exit_code == 1
    assert '[0].appeal["en\\u001b[31m"]: is not a field we know' in result.output
    assert '[0].presets["\\u202eusd"]: is not a currency we take' in result.output
    assert "\x1b" not in result.output
