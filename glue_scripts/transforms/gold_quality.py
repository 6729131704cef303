"""Quality measures of a built gold mart: grain uniqueness, signs, and totals reconciled with silver."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

# mart measure -> the silver reference total it must equal
RECONCILE: dict[str, dict[str, str]] = {
    "daily_revenue": {"net_revenue": "net_revenue", "line_items": "lineitems"},
    "pricing_summary": {"count_order": "lineitems", "sum_qty": "quantity"},
    "customer_lifetime_value": {"net_revenue": "net_revenue"},
    "supplier_delivery_performance": {"line_items_shipped": "lineitems"},
    "web_traffic_daily": {"page_views": "web_events"},
    "part_demand": {"quantity": "quantity", "revenue": "net_revenue"},
}


def silver_reference(inputs: dict[str, DataFrame]) -> dict[str, str]:
    """Totals computed straight from silver, independent of the mart code (exact decimals as strings)."""
    reference: dict[str, str] = {}
    if "lineitem" in inputs:
        row = inputs["lineitem"].agg(
            F.count(F.lit(1)).alias("lineitems"),
            F.sum("l_quantity").alias("quantity"),
            F.sum(F.col("l_extendedprice") * (F.lit(1) - F.col("l_discount"))).alias("net_revenue"),
        ).collect()[0]
        reference.update({k: str(row[k] if row[k] is not None else 0) for k in ("lineitems", "quantity", "net_revenue")})
    if "web_events" in inputs:
        reference["web_events"] = str(inputs["web_events"].count())
    return reference


def mart_quality(mart: str, written: DataFrame, grain: tuple[str, ...], totals: dict[str, Any],
                 reference: dict[str, str], silver_days: dict[str, str | None]) -> dict[str, Any]:
    """Duplicate grain keys, negative measures per column, each reconciled total, and silver's latest day per input."""
    numeric = [f.name for f in written.schema.fields
                if f.name not in grain and f.dataType.typeName() in ("decimal", "long", "integer", "double")]
    row = written.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct(*[F.col(c) for c in grain]).alias("keys"),
        *[F.sum((F.col(c) < 0).cast("int")).alias(f"neg_{c}") for c in numeric],
    ).collect()[0]
    reconciliation = {
        measure: {"mart": str(totals.get(measure, 0)), "silver": reference.get(ref, "0"),
                  "equal": Decimal(str(totals.get(measure, 0))) == Decimal(reference.get(ref, "0"))}
        for measure, ref in RECONCILE.get(mart, {}).items()
    }
    return {
        "grain_duplicates": int(row["rows"]) - int(row["keys"]),
        "negative_measures": {c: int(row[f"neg_{c}"] or 0) for c in numeric},
        "reconciliation": reconciliation,
        "silver_days": silver_days,
    }


def latest_day(df: DataFrame) -> str | None:
    """The newest `ingestion_date` partition present in a silver frame read with partition discovery."""
    if "ingestion_date" not in df.columns:
        return None
    value = df.agg(F.max(F.col("ingestion_date").cast("string"))).collect()[0][0]
    return str(value) if value is not None else None
