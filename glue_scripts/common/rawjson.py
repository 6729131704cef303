"""Decode JSON while keeping every scalar as the text the source sent (numbers keep their digits)."""

from __future__ import annotations

import json
from typing import Any


def raw_value(value: Any) -> str | None:
    """One value from `loads_raw` as a raw string: scalars as their text, nested values as compact JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads_raw(text: str) -> Any:
    """Parse JSON text keeping numbers as their original text (strings), not floats or ints."""
    return json.loads(text, parse_float=str, parse_int=str, parse_constant=str)

