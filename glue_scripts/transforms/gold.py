"""Gold marts: the registry of every mart (its silver inputs, grain, description, build, partials, reconciliation).

Every mart is written over its whole folder in one atomic swap and always equals a full recompute from the
current silver tables (the union of all their `ingestion_date=*` partitions); the `--ingestion_date` a build
runs for only labels the run. How each mart gets there:

Incremental (`partials` set; SQL in `gold_incremental.py`, storage and refresh in `glue_scripts/common/gold_job.py`):
one partial aggregate per lineitem silver partition, recomputed only when that partition's files change (a new
day, a re-run, an older partition rewritten because it lost a key) and dropped when it disappears; the mart sums
the partials, so a late correction moves a line out of its old partition's partial and into its new one.
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

from collections.abc import Callable
from dataclasses import dataclass, field

from glue_scripts.common.specs import SILVER_TABLES_BY_NAME, WEB_EVENTS
from glue_scripts.engine.dialect import Columns
from glue_scripts.transforms import gold_sales, gold_web

MONEY = "decimal(25,2)"  # a sum of decimal(15,2)
NET = "decimal(38,4)"  # a sum of net amounts, decimal(32,4) per line
AVERAGE = "decimal(19,6)"  # Spark's avg of a decimal(15,2)


@dataclass(frozen=True)
class Partials:
    """How an additive mart is rebuilt from partial aggregates, one per partition of its `source` silver table."""

    source: str
    keys: tuple[str, ...]
    # every column of a partial (keys first) with its declared type; measures are summed to `keys`
    columns: Columns
    # (source relation, extra group columns) -> SQL of rows per extra columns x `keys` with additive measures only
    partial: Callable[[str, tuple[str, ...]], str]
    # (partials summed to `keys`, the mart's other input relations in registry order) -> SQL of the mart
    finish: Callable[..., str]
    # bump when `partial` changes meaning, so every stored partial is recomputed
    version: int = 2


@dataclass(frozen=True)
class Mart:
    """One gold mart: silver inputs, grain (unique key columns), declared columns, full build, partials if any."""

    name: str
    inputs: tuple[str, ...]
    grain: tuple[str, ...]
    description: str
    # (input relations in `inputs` order) -> SQL of the mart; its columns are cast to `columns` when written
    build: Callable[..., str]
    columns: Columns
    partials: Partials | None = None
    # mart measure -> the silver total it must equal (gold_quality.reference_sqls names them)
    reconcile: dict[str, str] = field(default_factory=dict)


def lineitem_decimals() -> dict[str, tuple[int, int]]:
    """Lineitem's decimal columns -> (precision, scale), from the silver spec."""
    types = dict(input_columns("lineitem"))
    return {name: (int(p), int(s)) for name, kind in types.items() if kind.startswith("decimal(")
            for p, s in [kind[len("decimal("):-1].split(",")]}


def _clv(customer: str, orders: str, lineitem: str, web_events: str) -> str:
    activity = f"({gold_web.customer_web_activity(web_events)})"
    return gold_sales.customer_lifetime_value(customer, orders, lineitem, activity)


def _pricing(lineitem: str) -> str:
    return gold_sales.pricing_summary(lineitem, lineitem_decimals())


def _pricing_from_partials(partials: str) -> str:
    return gold_sales.pricing_from_partials(partials, lineitem_decimals())


PRICING_COLUMNS: Columns = (
    ("ship_month", "date"), ("l_returnflag", "string"), ("l_linestatus", "string"), ("sum_qty", MONEY),
    ("sum_base_price", MONEY), ("sum_disc_price", NET), ("sum_charge", "decimal(38,6)"),
)
SUPPLIER_COUNTS: Columns = (("s_suppkey", "bigint"), ("ship_year", "int"), ("line_items_shipped", "bigint"),
                            ("late_receipts", "bigint"))

MARTS: tuple[Mart, ...] = (
    Mart(
        "daily_revenue",
        ("orders", "lineitem", "customer", "nation"),
        ("o_orderdate", "n_name", "c_mktsegment"),
        "Grain: order date x customer nation x market segment. "
        "Measures: orders, line_items, gross_revenue, net_revenue.",
        gold_sales.daily_revenue,
        (("o_orderdate", "date"), ("n_name", "string"), ("c_mktsegment", "string"), ("orders", "bigint"),
         ("line_items", "bigint"), ("gross_revenue", MONEY), ("net_revenue", NET)),
        reconcile={"net_revenue": "net_revenue", "line_items": "lineitems"},
    ),
    Mart(
        "pricing_summary",
        ("lineitem",),
        gold_sales.PRICING_KEYS,
        "Grain: ship month x return flag x line status. Measures: TPC-H Q1 sums, averages and count_order.",
        _pricing,
        (*PRICING_COLUMNS, ("avg_qty", AVERAGE), ("avg_price", AVERAGE), ("avg_disc", AVERAGE),
         ("count_order", "bigint")),
        Partials("lineitem", gold_sales.PRICING_KEYS,
                 (*PRICING_COLUMNS, ("sum_disc", MONEY), ("count_qty", "bigint"), ("count_price", "bigint"),
                  ("count_disc", "bigint"), ("count_order", "bigint")),
                 gold_sales.pricing_partial, _pricing_from_partials),
        reconcile={"count_order": "lineitems", "sum_qty": "quantity"},
    ),
    Mart(
        "customer_lifetime_value",
        ("customer", "orders", "lineitem", WEB_EVENTS.name),
        ("c_custkey",),
        "Grain: customer. Measures: orders, net_revenue, first/last order date, web_sessions, page_views.",
        _clv,
        (("c_custkey", "bigint"), ("c_name", "string"), ("c_mktsegment", "string"), ("orders", "bigint"),
         ("net_revenue", NET), ("first_order_date", "date"), ("last_order_date", "date"),
         ("web_sessions", "bigint"), ("page_views", "bigint")),
        reconcile={"net_revenue": "net_revenue"},
    ),
    Mart(
        "supplier_delivery_performance",
        ("lineitem", "supplier"),
        gold_sales.SUPPLIER_KEYS,
        "Grain: supplier x ship year. Measures: line_items_shipped, late_receipts, late_ratio.",
        gold_sales.supplier_delivery_performance,
        (("s_suppkey", "bigint"), ("ship_year", "int"), ("s_name", "string"), ("line_items_shipped", "bigint"),
         ("late_receipts", "bigint"), ("late_ratio", "double")),
        Partials("lineitem", gold_sales.SUPPLIER_KEYS, SUPPLIER_COUNTS, gold_sales.supplier_delivery_counts,
                 gold_sales.supplier_delivery_from_counts),
        reconcile={"line_items_shipped": "lineitems"},
    ),
    Mart(
        "web_traffic_daily",
        (WEB_EVENTS.name,),
        ("event_date",),
        "Grain: UTC event date. Measures: page_views, bot_share, sessions, unique_customers, top_parts.",
        gold_web.web_traffic_daily,
        (("event_date", "date"), ("page_views", "bigint"), ("bot_share", "double"), ("sessions", "bigint"),
         ("unique_customers", "bigint"), ("top_parts", "array<bigint>")),
        reconcile={"page_views": "web_events"},
    ),
    Mart(
        "part_demand",
        ("lineitem", "part"),
        ("p_brand", "p_type", "ship_month"),
        "Grain: part brand x part type x ship month. Measures: quantity, revenue (net of discount).",
        gold_sales.part_demand,
        (("p_brand", "string"), ("p_type", "string"), ("ship_month", "date"), ("quantity", MONEY),
         ("revenue", NET)),
        reconcile={"quantity": "quantity", "revenue": "net_revenue"},
    ),
)

MARTS_BY_NAME: dict[str, Mart] = {m.name: m for m in MARTS}
MART_DESCRIPTIONS: dict[str, str] = {m.name: m.description for m in MARTS}
NUMERIC = ("bigint", "int", "double", "decimal(")


def mart_names() -> list[str]:
    """The names of every gold mart, in registry order."""
    return [m.name for m in MARTS]


def input_columns(table: str) -> Columns:
    """The columns a mart may read from a silver table: its data columns with their types (no lineage)."""
    return SILVER_TABLES_BY_NAME[table].data_columns


def measure_columns(columns: Columns, grain: tuple[str, ...]) -> list[str]:
    """The numeric columns of a mart that are not part of its grain."""
    return [name for name, kind in columns if name not in grain and kind.startswith(NUMERIC)]
