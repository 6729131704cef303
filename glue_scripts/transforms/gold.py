"""Gold marts: the registry of every mart (its silver inputs, grain, description and pure build function).

Every mart is a full recompute from the current silver tables (the union of all their
`ingestion_date=*` partitions), written over the whole mart folder in one atomic swap; the
`--ingestion_date` a build runs for only labels the run. Full recompute keeps late corrections to
any silver row (an order restated, a customer moved to another nation) right without tracking them.

Marts that could be made incremental, and how:
- `pricing_summary`, `part_demand`, `supplier_delivery_performance`: additive measures keyed by a
  ship period; recompute only the periods touched by the lineitem rows of new silver partitions
  and swap those period partitions (averages and ratios are recomputed from the stored sums/counts).
- `daily_revenue`: keyed by o_orderdate; recompute the order dates of changed orders or lines, but a
  customer changing nation or segment moves history between groups, so it needs a full rebuild then.
- `web_traffic_daily`: recompute only the event dates in new web_events partitions plus the day
  before (a session crossing midnight counts on its start day).
- `customer_lifetime_value`: recompute only customers with new orders, lines or web events; sessions
  spanning partitions make the web measures the hard part, so it stays a full recompute.
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
class Mart:
    """One gold mart: the silver tables it reads, its grain (unique key columns) and how it is built."""

    name: str
    inputs: tuple[str, ...]
    grain: tuple[str, ...]
    description: str
    build: Callable[..., DataFrame]


def _clv(customer: DataFrame, orders: DataFrame, lineitem: DataFrame, web_events: DataFrame) -> DataFrame:
    return gold_sales.customer_lifetime_value(customer, orders, lineitem, gold_web.customer_web_activity(web_events))


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


def conform_input(df: DataFrame, table: str) -> DataFrame:
    """A silver table reduced to its data columns (metadata and partition columns dropped), typed as specified."""
    return df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in input_schema(table).fields])


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
