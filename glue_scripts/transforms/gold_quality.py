"""Quality measures of a built gold mart (SQL, either engine): grain uniqueness, signs, totals reconciled with silver."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from glue_scripts.engine import Engine
from glue_scripts.engine.dialect import Columns
from glue_scripts.transforms.gold import measure_columns
from glue_scripts.transforms.gold_sales import NET_PRICE

# mart measure -> the silver reference total it must equal
RECONCILE: dict[str, dict[str, str]] = {
    "daily_revenue": {"net_revenue": "net_revenue", "line_items": "lineitems"},
    "pricing_summary": {"count_order": "lineitems", "sum_qty": "quantity"},
    "customer_lifetime_value": {"net_revenue": "net_revenue"},
    "supplier_delivery_performance": {"line_items_shipped": "lineitems"},
    "web_traffic_daily": {"page_views": "web_events"},
    "part_demand": {"quantity": "quantity", "revenue": "net_revenue"},
}


def silver_reference(engine: Engine, inputs: dict[str, str]) -> dict[str, str]:
    """Totals computed straight from the silver relations, independent of the mart code (exact decimals as strings)."""
    reference: dict[str, str] = {}
    if "lineitem" in inputs:
        row = engine.rows(f"""
            SELECT count(*) AS lineitems, CAST(sum(l_quantity) AS DECIMAL(25,2)) AS quantity,
                   CAST(sum({NET_PRICE}) AS DECIMAL(38,4)) AS net_revenue FROM {inputs['lineitem']} AS li""")[0]
        reference.update({k: str(row[k] if row[k] is not None else 0)
                          for k in ("lineitems", "quantity", "net_revenue")})
    if "web_events" in inputs:
        reference["web_events"] = str(engine.rows(f"SELECT count(*) AS n FROM {inputs['web_events']} AS we")[0]["n"])
    return reference


def measure_totals(engine: Engine, mart: str, columns: Columns, grain: tuple[str, ...]) -> dict[str, Any]:
    """Sum of every numeric measure over the whole mart: decimals as strings, integers as int, doubles as float."""
    measures = measure_columns(columns, grain)
    if not measures:
        return {}
    kinds = dict(columns)
    sums = [f"CAST(sum({c}) AS {'BIGINT' if kinds[c] in ('bigint', 'int') else kinds[c].upper()}) AS {c}"
            for c in measures]
    row = engine.rows(f"SELECT {', '.join(sums)} FROM {mart} AS ma")[0]
    totals: dict[str, Any] = {}
    for column in measures:
        value, kind = row[column], kinds[column]
        if kind.startswith("decimal("):
            totals[column] = str(value if value is not None else Decimal(0))
        elif kind == "double":
            totals[column] = float(value) if value is not None else 0.0
        else:
            totals[column] = int(value) if value is not None else 0
    return totals


def mart_quality(engine: Engine, name: str, mart: str, columns: Columns, grain: tuple[str, ...],
                 totals: dict[str, Any], reference: dict[str, str],
                 silver_days: dict[str, str | None]) -> dict[str, Any]:
    """Duplicate grain keys, negative measures per column, each reconciled total, and silver's latest day per input."""
    numeric = measure_columns(columns, grain)
    negatives = "".join(f", sum(CASE WHEN {c} < 0 THEN 1 ELSE 0 END) AS neg_{c}" for c in numeric)
    row = engine.rows(f"""
        SELECT count(*) AS rows_,
               (SELECT count(*) FROM (SELECT DISTINCT {', '.join(grain)} FROM {mart} AS ma) AS k) AS keys_
               {negatives} FROM {mart} AS ma""")[0]
    reconciliation = {
        measure: {"mart": str(totals.get(measure, 0)), "silver": reference.get(ref, "0"),
                  "equal": Decimal(str(totals.get(measure, 0))) == Decimal(reference.get(ref, "0"))}
        for measure, ref in RECONCILE.get(name, {}).items()
    }
    return {
        "grain_duplicates": int(row["rows_"]) - int(row["keys_"]),
        "negative_measures": {c: int(row[f"neg_{c}"] or 0) for c in numeric},
        "reconciliation": reconciliation,
        "silver_days": silver_days,
    }
