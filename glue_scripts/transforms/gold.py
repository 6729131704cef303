"""Gold marts: the registry of every mart (its silver inputs, grain, description, build and partials).

Every mart is written over its whole folder in one atomic swap and always equals a full recompute from the
current silver tables (the union of all their `ingestion_date=*` partitions); the `--ingestion_date` a build
runs for only labels the run. How each mart gets there:

Incremental (`partials` set; mechanism in `gold_incremental.py`): one partial aggregate per lineitem silver
partition, recomputed only when that partition's files change (a new day, a re-run, an older partition
rewritten because it lost a key) and dropped when it disappears; the mart sums the partials, so a late
correction moves a line out of its old partition's partial and into its new one.
- `pricing_summary`: partials per ship month x flags hold the sums and the non-null counts behind each
  average; averages are recomputed from them exactly as Spark's `avg` divides, so decimals match exactly.
- `supplier_delivery_performance`: partials per l_suppkey x ship year hold line and late counts; supplier
  names (a dimension that changes on its own) are joined and late_ratio computed after summing.

Full recompute, and why:
- `part_demand`: additive, but its group (brand x type) comes from `part`, so a partial would have to be keyed
  by l_partkey x ship month, which is about as many rows as the lineitem partition it summarizes.
- `daily_revenue`: its groups come from orders and customer joins; an order or customer restated in a later
  day (a customer moving nation or segment) moves history between groups that no lineitem partition tracks.
- `customer_lifetime_value`: per customer over orders, lines and web sessions; the same late joins apply,
  and `orders`, first/last dates and sessions are distinct counts or extremes, not sums.
- `web_traffic_daily`: sessions are cut by a 30-minute gap per client and can span partitions and midnight,
  and unique customers and top parts are distinct counts and rankings, not sums.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from glue_scripts.common.specs import SILVER_BY_NAME
from glue_scripts.transforms import gold_sales, gold_web

WEB_EVENTS = "web_events"


@dataclass(frozen=True)
class Partials:
    """How an additive mart is rebuilt from partial aggregates, one per partition of its `source` silver table."""

    source: str
    keys: tuple[str, ...]
    # (source rows, extra group columns) -> rows per extra columns x `keys` with additive measures only
    partial: Callable[[DataFrame, tuple[str, ...]], DataFrame]
    # (partials summed to `keys`, the mart's other inputs in registry order) -> the mart
    finish: Callable[..., DataFrame]
    # bump when `partial` changes meaning, so every stored partial is recomputed
    version: int = 1


@dataclass(frozen=True)
class Mart:
    """One gold mart: its silver inputs, grain (unique key columns), full build, and partials if incremental."""

    name: str
    inputs: tuple[str, ...]
    grain: tuple[str, ...]
    description: str
    build: Callable[..., DataFrame]
    partials: Partials | None = None


def _clv(customer: DataFrame, orders: DataFrame, lineitem: DataFrame, web_events: DataFrame) -> DataFrame:
    return gold_sales.customer_lifetime_value(customer, orders, lineitem, gold_web.customer_web_activity(web_events))


def _pricing_from_partials(partials: DataFrame) -> DataFrame:
    types = {f.name: f.dataType for f in input_schema("lineitem").fields}
    return gold_sales.pricing_from_partials(partials, types)


MARTS: tuple[Mart, ...] = (
    Mart(
        "daily_revenue",
        ("orders", "lineitem", "customer", "nation"),
        ("o_orderdate", "n_name", "c_mktsegment"),
        "Grain: order date x customer nation x market segment. "
        "Measures: orders, line_items, gross_revenue, net_revenue.",
        gold_sales.daily_revenue,
    ),
    Mart(
        "pricing_summary",
        ("lineitem",),
        ("ship_month", "l_returnflag", "l_linestatus"),
        "Grain: ship month x return flag x line status. Measures: TPC-H Q1 sums, averages and count_order.",
        gold_sales.pricing_summary,
        Partials("lineitem", gold_sales.PRICING_KEYS, gold_sales.pricing_partial, _pricing_from_partials),
    ),
    Mart(
        "customer_lifetime_value",
        ("customer", "orders", "lineitem", WEB_EVENTS),
        ("c_custkey",),
        "Grain: customer. Measures: orders, net_revenue, first/last order date, web_sessions, page_views.",
        _clv,
    ),
    Mart(
        "supplier_delivery_performance",
        ("lineitem", "supplier"),
        ("s_suppkey", "ship_year"),
        "Grain: supplier x ship year. Measures: line_items_shipped, late_receipts, late_ratio.",
        gold_sales.supplier_delivery_performance,
        Partials("lineitem", gold_sales.SUPPLIER_KEYS, gold_sales.supplier_delivery_counts,
                 gold_sales.supplier_delivery_from_counts),
    ),
    Mart(
        "web_traffic_daily",
        (WEB_EVENTS,),
        ("event_date",),
        "Grain: UTC event date. Measures: page_views, bot_share, sessions, unique_customers, top_parts.",
        gold_web.web_traffic_daily,
    ),
    Mart(
        "part_demand",
        ("lineitem", "part"),
        ("p_brand", "p_type", "ship_month"),
        "Grain: part brand x part type x ship month. Measures: quantity, revenue (net of discount).",
        gold_sales.part_demand,
    ),
)

MARTS_BY_NAME: dict[str, Mart] = {m.name: m for m in MARTS}
MART_DESCRIPTIONS: dict[str, str] = {m.name: m.description for m in MARTS}


def mart_names() -> list[str]:
    """The names of every gold mart, in registry order."""
    return [m.name for m in MARTS]


SIMPLE_TYPES: dict[str, T.DataType] = {
    "bigint": T.LongType(),
    "int": T.IntegerType(),
    "string": T.StringType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "boolean": T.BooleanType(),
}


def spark_type(name: str) -> T.DataType:
    """The Spark type for a spec type name such as 'bigint' or 'decimal(15,2)'."""
    decimal = re.fullmatch(r"decimal\((\d+),(\d+)\)", name)
    return T.DecimalType(int(decimal[1]), int(decimal[2])) if decimal else SIMPLE_TYPES[name]


def input_schema(table: str) -> T.StructType:
    """The columns a mart may read from a silver table (its spec columns; web_events' fixed columns)."""
    if table == WEB_EVENTS:
        columns = list(gold_web.WEB_EVENTS_COLUMNS)
    else:
        columns = [(c.name, c.type) for c in SILVER_BY_NAME[table].columns]
    return T.StructType([T.StructField(n, spark_type(t)) for n, t in columns])


def conform_input(df: DataFrame, table: str, keep: tuple[str, ...] = ()) -> DataFrame:
    """A silver table reduced to `keep` and its data columns (other metadata and partition columns dropped), typed."""
    return df.select(*keep, *[F.col(f.name).cast(f.dataType).alias(f.name) for f in input_schema(table).fields])


def build_mart(name: str, inputs: dict[str, DataFrame]) -> DataFrame:
    """Build mart `name` from its silver inputs (keyed by table name); grain columns come first."""
    mart = MARTS_BY_NAME[name]
    return mart.build(*[conform_input(inputs[t], t) for t in mart.inputs])


def measure_columns(df: DataFrame, grain: tuple[str, ...]) -> list[str]:
    """The numeric columns of a mart that are not part of its grain."""
    return [f.name for f in df.schema.fields if f.name not in grain and isinstance(f.dataType, T.NumericType)]


def measure_totals(df: DataFrame, grain: tuple[str, ...]) -> dict[str, Any]:
    """Sum of every numeric measure over the whole mart: decimals as strings, integers as int, doubles as float."""
    columns = measure_columns(df, grain)
    if not columns:
        return {}
    row = df.agg(*[F.sum(c).alias(c) for c in columns]).collect()[0]
    totals: dict[str, Any] = {}
    for column in columns:
        value = row[column]
        if isinstance(value, Decimal):
            totals[column] = str(value)
        elif value is None:
            kind = df.schema[column].dataType
            zero: Any = 0.0 if isinstance(kind, T.FractionalType) else 0
            totals[column] = "0" if isinstance(kind, T.DecimalType) else zero
        else:
            totals[column] = value
    return totals
