"""Strict decoding of parsed JSON into dataclasses: every field, nothing else, each value of its declared type.

Standard library only (the Glue scripts ship it). Containers: `dict[str, X]`, `tuple[X, ...]`, fixed tuples and
`X | None` or unions of scalars; scalars: int (never a bool), float (an int is widened), str, bool.
"""

from __future__ import annotations

import types
from dataclasses import fields, is_dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints


class ShapeError(ValueError):
    """A value that does not have the shape of the type it is read as."""


def decode(kind: Any, value: Any, label: str, where: str) -> Any:
    """`value` (parsed JSON) as `kind`: dataclasses field by field, containers element by element; an error starts
    with `label` and names the place `where` (a path from the root) of the wrong value."""
    origin, args = get_origin(kind), get_args(kind)
    if is_dataclass(kind):
        if not isinstance(value, dict):
            raise ShapeError(f"{label}: {where} is {type(value).__name__}, expected an object")
        hints = get_type_hints(kind)
        names = [f.name for f in fields(kind)]
        unknown, missing = sorted(set(value) - set(names)), [n for n in names if n not in value]
        if unknown:
            raise ShapeError(f"{label}: unknown field {where}.{unknown[0]}")
        if missing:
            raise ShapeError(f"{label}: missing field {where}.{missing[0]}")
        return kind(**{n: decode(hints[n], value[n], label, f"{where}.{n}") for n in names})
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if value is None and len(options) < len(args):
            return None
        if len(options) == 1:  # an optional part: its own error names the field that is wrong
            return decode(options[0], value, label, where)
        for option in options:
            try:
                return decode(option, value, label, where)
            except ShapeError:
                continue
        raise ShapeError(f"{label}: {where} is {value!r}, expected {kind}")
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise ShapeError(f"{label}: {where} is {type(value).__name__}, expected an object")
        return {k: decode(args[1], v, label, f"{where}[{k!r}]") for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ShapeError(f"{label}: {where} is {type(value).__name__}, expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v, label, f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ShapeError(f"{label}: {where} has {len(value)} items, expected {len(args)}")
        return tuple(decode(a, v, label, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind in (int, str, bool) and isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return value
    raise ShapeError(f"{label}: {where} is {value!r}, expected {getattr(kind, '__name__', kind)}")
