"""Quality measures of a built gold mart as canonical SQL, and their reading: grain uniqueness, signs, and totals
reconciled with the same totals computed straight from silver. Builders return SQL; the job runs them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from glue_scripts.engine.dialect import Columns
from glue_scripts.transforms.gold import Mart, measure_columns
from glue_scripts.transforms.gold_sales import NET_PRICE


def reference_sqls(inputs: dict[str, str]) -> list[str]:
    """Queries of the silver totals marts reconcile with, over the silver relations `inputs` (table -> relation)
    the mart reads; each returns one row of reference name -> total, independent of the mart code."""
    queries = []
    if "lineitem" in inputs:
        queries.append(f"""
            SELECT count(*) AS lineitems, CAST(sum(l_quantity) AS DECIMAL(25,2)) AS quantity,
                   CAST(sum({NET_PRICE}) AS DECIMAL(38,4)) AS net_revenue FROM {inputs['lineitem']} AS li""")
    if "web_events" in inputs:
        queries.append(f"SELECT count(*) AS web_events FROM {inputs['web_events']} AS we")
    return queries


def reference(rows: list[dict[str, Any]]) -> dict[str, str]:
    """The rows of `reference_sqls` as reference name -> exact total as text (an empty sum is 0)."""
    return {key: str(value if value is not None else 0) for row in rows for key, value in row.items()}


def totals_sql(mart: str, columns: Columns, grain: tuple[str, ...]) -> str:
    """One row: the sum of every numeric measure over the whole mart relation `mart`."""
    kinds = dict(columns)
    sums = [f"CAST(sum({c}) AS {'BIGINT' if kinds[c] in ('bigint', 'int') else kinds[c].upper()}) AS {c}"
            for c in measure_columns(columns, grain)]
    return f"SELECT {', '.join(sums) or 'NULL AS none_'} FROM {mart} AS ma"


def totals(row: dict[str, Any], columns: Columns, grain: tuple[str, ...]) -> dict[str, Any]:
    """`totals_sql`'s row as report values: decimals as strings, integers as int, doubles as float (NULL as 0)."""
    kinds, result = dict(columns), {}
    for column in measure_columns(columns, grain):
        value, kind = row[column], kinds[column]
        if kind.startswith("decimal("):
            result[column] = str(value if value is not None else Decimal(0))
        elif kind == "double":
            result[column] = float(value) if value is not None else 0.0
        else:
            result[column] = int(value) if value is not None else 0
    return result


def quality_sql(mart: str, columns: Columns, grain: tuple[str, ...]) -> str:
    """One row: the mart's rows, its distinct grain keys (NULLs equal, on both engines) and negatives per measure."""
    negatives = "".join(f", sum(CASE WHEN {c} < 0 THEN 1 ELSE 0 END) AS neg_{c}" for c in measure_columns(columns, grain))
    return f"""
        SELECT count(*) AS rows_,
               (SELECT count(*) FROM (SELECT DISTINCT {', '.join(grain)} FROM {mart} AS ma) AS k) AS keys_
               {negatives} FROM {mart} AS ma"""


def quality(mart: Mart, row: dict[str, Any], totals: dict[str, Any], reference: dict[str, str],
            silver_days: dict[str, str | None]) -> dict[str, Any]:
    """Duplicate grain keys, negative measures per column, each reconciled total (the mart's `reconcile`), and
    silver's latest day per input, from `quality_sql`'s row."""
    reconciliation = {
        measure: {"mart": str(totals.get(measure, 0)), "silver": reference.get(ref, "0"),
                  "equal": Decimal(str(totals.get(measure, 0))) == Decimal(reference.get(ref, "0"))}
        for measure, ref in mart.reconcile.items()
    }
    return {
        "grain_duplicates": int(row["rows_"]) - int(row["keys_"]),
        "negative_measures": {c: int(row[f"neg_{c}"] or 0) for c in measure_columns(mart.columns, mart.grain)},
        "reconciliation": reconciliation,
        "silver_days": silver_days,
    }
