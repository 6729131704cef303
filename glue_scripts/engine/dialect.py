"""The one place where the engines' SQL differs: canonical SQL (DuckDB dialect) rendered per engine by sqlglot.

Transforms call two named functions whose meaning DuckDB and Spark would otherwise disagree on:
- `lakehouse_decimal_avg(total, count, precision, scale)`: the average of a DECIMAL(precision, scale) column from
  its sum and non-null count, exactly as Spark's `avg` returns it: DECIMAL(precision + 4, scale + 4), rounded
  half away from zero, NULL for a zero count. DuckDB divides decimals in DOUBLE, so there it is integer
  arithmetic on HUGEINT; Spark divides decimals exactly.
- `lakehouse_ordered_list(value, ordering)`: the group's non-null values as an array ordered by `ordering`.
  sqlglot renders DuckDB's `list(v ORDER BY o)` as Spark's `collect_list(v)`, silently dropping the order; and
  Spark's `collect_list` skips NULLs but keeps a struct holding one, DuckDB's `list` keeps NULLs.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

Columns = tuple[tuple[str, str], ...]  # (column name, spec type name such as 'bigint' or 'decimal(15,2)')

CANONICAL = "duckdb"
SIMPLE_TYPES: dict[str, str] = {
    "bigint": "BIGINT",
    "int": "INTEGER",
    "string": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "boolean": "BOOLEAN",
    "double": "DOUBLE",
}


def sql_type(name: str) -> str:
    """The canonical SQL type of a spec type name: 'decimal(15,2)', 'array<bigint>', 'timestamp' (UTC instant)..."""
    decimal = re.fullmatch(r"decimal\((\d+),(\d+)\)", name)
    if decimal:
        return f"DECIMAL({decimal[1]},{decimal[2]})"
    array = re.fullmatch(r"array<(.+)>", name)
    return f"{sql_type(array[1])}[]" if array else SIMPLE_TYPES[name]


def literal(value: str) -> str:
    """A string literal in canonical SQL (quotes escaped by sqlglot, so a file or folder name stays data)."""
    return exp.Literal.string(value).sql(CANONICAL)


def typed_select(columns: Columns, source: str, extra: tuple[str, ...] = ()) -> str:
    """`SELECT` of `extra` expressions and every column cast to its declared type, from relation `source`."""
    casts = [f"CAST({name} AS {sql_type(kind)}) AS {name}" for name, kind in columns]
    return f"SELECT {', '.join([*extra, *casts])} FROM {source}"


def empty_select(columns: Columns) -> str:
    """A relation of `columns` with no rows."""
    return "SELECT " + ", ".join(f"CAST(NULL AS {sql_type(kind)}) AS {name}" for name, kind in columns) + " LIMIT 0"


def _decimal_avg(dialect: str, total: str, count: str, precision: int, scale: int) -> str:
    result = f"DECIMAL({min(precision + 4, 38)},{min(scale + 4, 38)})"
    if dialect == "spark":
        quotient = f"CAST({total} AS DECIMAL({min(precision + 10, 38)},{scale})) / CAST({count} AS DECIMAL(20,0))"
        return f"CASE WHEN {count} = 0 THEN NULL ELSE CAST({quotient} AS {result}) END"
    units = f"(CAST({total} * {10 ** scale} AS HUGEINT) * 10000)"
    half_up = f"CASE WHEN 2 * abs({units} % {count}) >= {count} THEN sign({units}) ELSE 0 END"
    unit = f"CAST(0.{'0' * (scale + 3)}1 AS DECIMAL({scale + 5},{scale + 4}))"
    rounded = f"CAST({units} // {count} + {half_up} AS DECIMAL(38,0)) * {unit}"
    return f"CASE WHEN {count} = 0 THEN NULL ELSE CAST({rounded} AS {result}) END"


def _ordered_list(dialect: str, value: str, ordering: str) -> str:
    if dialect == "spark":
        pair = f"CASE WHEN {value} IS NOT NULL THEN named_struct('o', {ordering}, 'v', {value}) END"
        return f"transform(array_sort(collect_list({pair})), x -> x.v)"
    return f"list({value} ORDER BY {ordering}) FILTER (WHERE {value} IS NOT NULL)"


def render(sql: str, dialect: str) -> str:
    """Canonical SQL as `dialect` ('duckdb' or 'spark') runs it, the named functions expanded for that engine."""

    def expand(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Anonymous):
            return node
        name = str(node.this).lower()
        args = [a.sql(dialect) for a in node.expressions]
        if name == "lakehouse_decimal_avg":
            text = _decimal_avg(dialect, args[0], args[1], int(args[2]), int(args[3]))
        elif name == "lakehouse_ordered_list":
            text = _ordered_list(dialect, args[0], args[1])
        else:
            return node
        return sqlglot.parse_one(text, read=dialect)

    return sqlglot.parse_one(sql, read=CANONICAL).transform(expand).sql(dialect)
