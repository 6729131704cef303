"""Database values as bronze text: one value of a DB-API row → the string Spark's JDBC read + `cast(... as string)`
gave for it, so bronze keeps the same text whichever reader extracted it.

Measured against Spark 3.5 (PostgreSQL JDBC 42.5, sqlite-jdbc 3.40) and pinned per source type by
lakehouse_tests/glue_scripts/common/test_db_text.py. Decimals carry the column's scale (Spark's decimal(p,s), and
decimal(38,18) for a NUMERIC without one), timestamps are UTC with trailing fractional zeros dropped, doubles
follow Java's `Double.toString`. Where Spark's SQLite mapping lost the value (an INTEGER beyond 32 bits wrapped, a
DATE column failed the read, a DATETIME cut to its date, text in a numeric column read as 0), the value is kept as
SQLite stores it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timezone
from decimal import Context, Decimal
from typing import Any

SPARK_DEFAULT_SCALE = 18  # Spark reads a NUMERIC without precision and scale as decimal(38,18)
_DECIMAL = re.compile(r"^\s*(?:NUMERIC|DECIMAL)\s*(?:\(\s*\d+\s*(?:,\s*(\d+)\s*)?\))?\s*$", re.IGNORECASE)
_BOOLEAN = re.compile(r"^\s*BOOL(?:EAN)?\s*$", re.IGNORECASE)
PG_NUMERIC = 1700  # PostgreSQL's type oid of numeric
PG_NO_TYPMOD = 65535  # what psycopg2 reports as precision and scale of a numeric without them
_WIDE = Context(prec=100)  # quantizing must not round: Spark's decimals hold up to 38 digits

Render = Callable[[Any], "str | None"]


def java_double(value: float) -> str:
    """`value` as Java's Double.toString writes it (what Spark's cast of a double to string gives)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    magnitude = abs(value)
    if magnitude == 0.0:
        return f"{sign}0.0"
    shortest = Decimal(repr(magnitude))
    if 1e-3 <= magnitude < 1e7:
        plain = format(shortest, "f")
        return sign + (plain if "." in plain else plain + ".0")
    digits = "".join(map(str, shortest.normalize().as_tuple().digits))
    exponent = shortest.adjusted()
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _timestamp(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    text = value.isoformat(sep=" ")
    return text.rstrip("0") if "." in text else text


def render(value: Any, scale: int | None = None) -> str | None:
    """One value as bronze text; `scale` is the column's decimal scale when it is a decimal column."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if scale is not None and isinstance(value, (int, float, Decimal)):
        return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-scale), context=_WIDE))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return _timestamp(datetime.combine(date(1970, 1, 1), value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join("null" if v is None else str(render(v)) for v in value) + "]"
    return str(value)


def _decimal_scale(declared: str) -> int | None:
    match = _DECIMAL.match(declared or "")
    if not match:
        return None
    return int(match.group(1)) if match.group(1) is not None else (0 if "(" in declared else SPARK_DEFAULT_SCALE)


def sqlite_renderers(declared: Sequence[str]) -> list[Render]:
    """Per column of a SQLite result, from its declared type: DECIMAL/NUMERIC numbers at the column's scale,
    BOOLEAN integers as true/false, everything else by the value SQLite stores."""
    out: list[Render] = []
    for kind in declared:
        scale = _decimal_scale(kind)
        if scale is not None:
            out.append(lambda v, s=scale: render(v, s))
        elif _BOOLEAN.match(kind or ""):
            out.append(lambda v: render(bool(v)) if isinstance(v, int) else render(v))
        else:
            out.append(render)
    return out


def postgres_renderers(description: Sequence[Any]) -> list[Render]:
    """Per column of a psycopg2 result (its cursor.description): numerics at their scale, the rest by value."""
    out: list[Render] = []
    for column in description:
        if column.type_code != PG_NUMERIC:
            out.append(render)
            continue
        scale = SPARK_DEFAULT_SCALE if column.scale in (None, PG_NO_TYPMOD) else int(column.scale)
        out.append(lambda v, s=scale: render(v, s))
    return out
