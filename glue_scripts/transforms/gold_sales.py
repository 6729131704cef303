"""Gold transforms over the silver TPC-H tables, defined once as canonical SQL: relation names in, one mart's SQL out.

A relation argument is a table name or a parenthesized subquery `(SELECT ...)`; the transform aliases it.
Money stays decimal end to end: net amounts `l_extendedprice * (1 - l_discount)` are DECIMAL(32,4) per line,
charges DECIMAL(38,6), and the job casts every mart column to its declared type. Joins to dimension tables are left joins, so a line whose
order, customer, nation or part does not resolve keeps its revenue under a null attribute and every mart
reconciles to the lineitem totals.
"""

from __future__ import annotations

NET_PRICE = "CAST(l_extendedprice * (1 - l_discount) AS DECIMAL(32,4))"
CHARGE = "CAST(l_extendedprice * (1 - l_discount) * (1 + l_tax) AS DECIMAL(38,6))"
SHIP_MONTH = "CAST(date_trunc('month', l_shipdate) AS DATE)"
SHIP_YEAR = "CAST(year(l_shipdate) AS INTEGER)"


def _by(by: tuple[str, ...]) -> str:
    return "".join(f"{column}, " for column in by)


def daily_revenue(orders: str, lineitem: str, customer: str, nation: str) -> str:
    """One row per o_orderdate x n_name (customer's nation) x c_mktsegment: orders, line_items, gross/net revenue."""
    return f"""
        SELECT o.o_orderdate, n.n_name, c.c_mktsegment, count(DISTINCT o.o_orderkey) AS orders,
               count(l.l_orderkey) AS line_items, coalesce(sum(l.l_extendedprice), 0) AS gross_revenue,
               coalesce(sum(l.net), 0) AS net_revenue
        FROM {orders} AS o
        LEFT JOIN (SELECT l_orderkey, l_extendedprice, {NET_PRICE} AS net FROM {lineitem} AS li) AS l
          ON o.o_orderkey = l.l_orderkey
        LEFT JOIN {customer} AS c ON o.o_custkey = c.c_custkey
        LEFT JOIN {nation} AS n ON c.c_nationkey = n.n_nationkey
        GROUP BY o.o_orderdate, n.n_name, c.c_mktsegment"""


PRICING_KEYS: tuple[str, ...] = ("ship_month", "l_returnflag", "l_linestatus")
# averaged mart column -> (its lineitem column, the partial's sum and non-null count of that column)
PRICING_AVERAGES: dict[str, tuple[str, str, str]] = {
    "avg_qty": ("l_quantity", "sum_qty", "count_qty"),
    "avg_price": ("l_extendedprice", "sum_base_price", "count_price"),
    "avg_disc": ("l_discount", "sum_disc", "count_disc"),
}


def pricing_partial(lineitem: str, by: tuple[str, ...] = ()) -> str:
    """Additive pieces of pricing_summary per `by` x its grain: sums, and the non-null counts behind each average."""
    return f"""
        SELECT {_by(by)}ship_month, l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty,
               sum(l_extendedprice) AS sum_base_price, sum(net) AS sum_disc_price, sum(charge) AS sum_charge,
               sum(l_discount) AS sum_disc, count(l_quantity) AS count_qty, count(l_extendedprice) AS count_price,
               count(l_discount) AS count_disc, count(*) AS count_order
        FROM (SELECT {_by(by)}{SHIP_MONTH} AS ship_month, l_returnflag, l_linestatus, l_quantity, l_extendedprice,
                     l_discount, {NET_PRICE} AS net, {CHARGE} AS charge FROM {lineitem} AS li) AS l
        GROUP BY {_by(by)}ship_month, l_returnflag, l_linestatus"""


def pricing_from_partials(partials: str, lineitem_types: dict[str, tuple[int, int]]) -> str:
    """pricing_summary from pricing_partial rows at its grain; averages exactly as Spark's `avg` of each column.

    `lineitem_types` maps a lineitem column to its decimal (precision, scale).
    """
    averages = [f"lakehouse_decimal_avg({total}, {count}, {lineitem_types[column][0]}, {lineitem_types[column][1]})"
                f" AS {name}" for name, (column, total, count) in PRICING_AVERAGES.items()]
    return f"""
        SELECT ship_month, l_returnflag, l_linestatus, sum_qty, sum_base_price, sum_disc_price, sum_charge,
               {', '.join(averages)}, count_order
        FROM {partials} AS pa"""


def pricing_summary(lineitem: str, lineitem_types: dict[str, tuple[int, int]]) -> str:
    """TPC-H Q1 per ship_month x l_returnflag x l_linestatus: quantity, price, discount and charge sums and averages."""
    return pricing_from_partials(f"({pricing_partial(lineitem)})", lineitem_types)


def customer_lifetime_value(customer: str, orders: str, lineitem: str, web_activity: str) -> str:
    """One row per silver customer: orders, net_revenue (0 if none), first/last order date, web_sessions, page_views.

    `web_activity` is `gold_web.customer_web_activity(web_events)`.
    """
    return f"""
        SELECT c.c_custkey, c.c_name, c.c_mktsegment, coalesce(p.orders, 0) AS orders,
               coalesce(p.net_revenue, 0) AS net_revenue, p.first_order_date, p.last_order_date,
               coalesce(w.web_sessions, 0) AS web_sessions, coalesce(w.page_views, 0) AS page_views
        FROM {customer} AS c
        LEFT JOIN (
            SELECT o.o_custkey, count(DISTINCT o.o_orderkey) AS orders, sum(n.order_net) AS net_revenue,
                   min(o.o_orderdate) AS first_order_date, max(o.o_orderdate) AS last_order_date
            FROM {orders} AS o
            LEFT JOIN (SELECT l_orderkey, sum({NET_PRICE}) AS order_net FROM {lineitem} AS li GROUP BY l_orderkey) AS n
              ON o.o_orderkey = n.l_orderkey
            GROUP BY o.o_custkey) AS p ON c.c_custkey = p.o_custkey
        LEFT JOIN {web_activity} AS w ON c.c_custkey = w.customer_key"""


SUPPLIER_KEYS: tuple[str, ...] = ("s_suppkey", "ship_year")


def supplier_delivery_counts(lineitem: str, by: tuple[str, ...] = ()) -> str:
    """Per `by` x supplier x ship_year: line_items_shipped and late_receipts (receipt after commit), both additive."""
    return f"""
        SELECT {_by(by)}s_suppkey, ship_year, count(*) AS line_items_shipped, CAST(sum(late) AS BIGINT) AS late_receipts
        FROM (SELECT {_by(by)}l_suppkey AS s_suppkey, {SHIP_YEAR} AS ship_year,
                     CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END AS late FROM {lineitem} AS li) AS l
        GROUP BY {_by(by)}s_suppkey, ship_year"""


def supplier_delivery_from_counts(counts: str, supplier: str) -> str:
    """supplier_delivery_performance from supplier_delivery_counts at its grain: supplier names and late_ratio added."""
    return f"""
        SELECT k.s_suppkey, k.ship_year, s.s_name, k.line_items_shipped, k.late_receipts,
               CAST(k.late_receipts AS DOUBLE) / k.line_items_shipped AS late_ratio
        FROM {counts} AS k LEFT JOIN {supplier} AS s ON k.s_suppkey = s.s_suppkey"""


def supplier_delivery_performance(lineitem: str, supplier: str) -> str:
    """One row per supplier x ship_year: line_items_shipped, late_receipts (receipt after commit), late_ratio."""
    return supplier_delivery_from_counts(f"({supplier_delivery_counts(lineitem)})", supplier)


def part_demand(lineitem: str, part: str) -> str:
    """One row per p_brand x p_type x ship_month: quantity (sum l_quantity) and net revenue."""
    return f"""
        SELECT p.p_brand, p.p_type, l.ship_month, sum(l.l_quantity) AS quantity, sum(l.net) AS revenue
        FROM (SELECT l_partkey, l_quantity, {NET_PRICE} AS net, {SHIP_MONTH} AS ship_month FROM {lineitem} AS li) AS l
        LEFT JOIN {part} AS p ON l.l_partkey = p.p_partkey
        GROUP BY p.p_brand, p.p_type, l.ship_month"""
