"""Column names that come from data (CSV headers, JSON and API keys): which are usable, and what they become.

Rules, the same for every source:
- names match the spec columns case-insensitively and take the spec's spelling; other names are lowercased;
- a name must be letters, digits and `_`, starting with a letter: `_` opens the internal namespace
  (`_corrupt_record`, `_source_ref`, ...) and `.` or spaces mean something to the engines, so such names are refused;
- two names equal after case folding are a collision.
A CSV header breaking a rule quarantines its file; a JSON line or API record breaking one is kept whole in
`_corrupt_record` with the defect `unusable_key`, which silver quarantines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from glue_scripts.common.rawjson import raw_value

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")
UNUSABLE_KEY = "unusable_key"
NOT_A_SCALAR = "not_a_scalar"


def canonical(name: str, columns: Sequence[str]) -> str:
    """The bronze column a data name lands in: the spec column equal ignoring case, else the name lowercased."""
    folded = name.lower()
    return next((c for c in columns if c.lower() == folded), folded)


def name_problem(name: str, columns: Sequence[str]) -> str | None:
    """Why `name` cannot be a bronze column (None when it can)."""
    if canonical(name, columns) in columns:
        return None
    if not name:
        return "an empty column name"
    if name.startswith("_"):
        return f"column name {name!r} starts with '_', reserved for internal columns"
    if not NAME.fullmatch(name):
        return f"column name {name!r} is not letters, digits and '_' starting with a letter"
    return None


def names_problem(names: Sequence[str], columns: Sequence[str]) -> str | None:
    """Why a list of data names cannot name bronze columns: one unusable name, or a (case-insensitive) duplicate."""
    for name in names:
        problem = name_problem(name, columns)
        if problem:
            return problem
    seen: dict[str, str] = {}
    for name in names:
        key = canonical(name, columns)
        if key in seen:
            return f"column names {seen[key]!r} and {name!r} collide (equal ignoring case)"
        seen[key] = name
    return None


def header_problem(header: Sequence[str], columns: Sequence[str]) -> str | None:
    """Why a CSV header row is unusable: not a header at all, or names breaking the rules above."""
    if not any(canonical(n, columns) in columns for n in header):
        return "no header row: the first record names none of the expected columns"
    problem = names_problem(header, columns)
    return f"unusable header: {problem}" if problem else None


def shape(items: Iterable[tuple[str, Any]], columns: Sequence[str]) -> tuple[dict[str, str | None], list[str]] | str:
    """A JSON object's (key, value) pairs as ({bronze column: raw string}, defects), or why its keys are unusable.

    Keys repeated verbatim count as a collision too (JSON parsers would silently keep the last one).
    """
    pairs = list(items)
    problem = names_problem([k for k, _ in pairs], columns)
    if problem:
        return problem
    values: dict[str, str | None] = {}
    nested: list[str] = []
    for key, value in pairs:
        name = canonical(key, columns)
        values[name] = raw_value(value)
        if isinstance(value, (dict, list)) and name in columns:
            nested.append(name)
    return values, ([f"{NOT_A_SCALAR}:{','.join(nested)}"] if nested else [])
