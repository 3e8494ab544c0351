"""Two editors saved the same version: put both saves together where they do not collide.

A three-way merge of campaign documents. From the version both editors started
from (`base`), each changed some fields (paths such as `appeal.ar.headline` or
`banner.variants[1].cta.en`, as `document.changed_paths` names them). Fields only
one of them changed are taken from that one; a field both changed to different
values is a conflict, which the editor settles by choosing one value per field
(`choices`). A path and a longer path inside it (`banner.variants` and
`banner.variants[0].name`) touch the same field: the shorter one is the conflict.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from support.campaigns.document import changed_paths

MINE = "mine"
THEIRS = "theirs"
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass
class Merge:
    """The merged document, whose changes it holds, and what is left to choose."""

    document: dict
    mine: list[str] = field(default_factory=list)
    theirs: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _STEP.findall(path)]


def value_at(doc, path: str):
    """The value at `path` in `doc` (None where the path leads nowhere)."""
    for step in _steps(path):
        if isinstance(step, int):
            doc = doc[step] if isinstance(doc, list) and step < len(doc) else None
        else:
            doc = doc.get(step) if isinstance(doc, dict) else None
    return doc


def put(doc: dict, path: str, value) -> None:
    """Set `path` in `doc` to a copy of `value` (its containers exist: both saves share them)."""
    steps = _steps(path)
    target = doc
    for step in steps[:-1]:
        target = target[step]
    target[steps[-1]] = copy.deepcopy(value)


def _inside(path: str, other: str) -> bool:
    """Whether `path` is `other` or lies within it."""
    return path == other or path.startswith(other + ".") or path.startswith(other + "[")


def merge(base: dict, mine: dict, theirs: dict, choices: dict[str, str] | None = None) -> Merge:
    """Mine put onto theirs; conflicts settled by `choices` (path → MINE or THEIRS).

    A conflict without a choice stays in `conflicts`, and the document then holds
    their value there.
    """
    choices = choices or {}
    mine_paths = changed_paths(base, mine)
    theirs_paths = changed_paths(base, theirs)
    units: list[str] = []
    for ours in mine_paths:
        for other in theirs_paths:
            if not (_inside(ours, other) or _inside(other, ours)):
                continue
            unit = other if _inside(ours, other) else ours
            if value_at(mine, unit) != value_at(theirs, unit) and unit not in units:
                units.append(unit)
    result = Merge(copy.deepcopy(theirs), theirs=[p for p in theirs_paths])
    for path in mine_paths:
        if any(_inside(path, unit) for unit in units):
            continue
        put(result.document, path, value_at(mine, path))
        result.mine.append(path)
    for unit in units:
        choice = choices.get(unit)
        if choice == MINE:
            put(result.document, unit, value_at(mine, unit))
        elif choice != THEIRS:
            result.conflicts.append(unit)
    return result
