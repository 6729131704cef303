"""Gold transforms over the silver TPC-H tables: pure functions, silver DataFrames in, one mart out.

Money stays decimal end to end: sums of decimal(15,2) columns are decimal(25,2), net amounts
`l_extendedprice * (1 - l_discount)` are decimal(32,4) per line and decimal(38,4) summed. Joins to
dimension tables are left joins, so a line whose order, customer, nation or part does not resolve
keeps its revenue under a null attribute and every mart reconciles to the lineitem totals.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType


def net_price() -> Column:
    """One line's revenue after discount, `l_extendedprice * (1 - l_discount)`, exact decimal(32,4)."""
    return F.col("l_extendedprice") * (F.lit(1) - F.col("l_discount"))


def ship_month() -> Column:
    """First day of the month of `l_shipdate`, as a date."""
    return F.trunc(F.col("l_shipdate"), "month")


def daily_revenue(orders: DataFrame, lineitem: DataFrame, customer: DataFrame, nation: DataFrame) -> DataFrame:
    """One row per o_orderdate x n_name (customer's nation) x c_mktsegment: orders, line_items, gross/net revenue."""
    lines = lineitem.select("l_orderkey", "l_extendedprice", net_price().alias("net"))
    customers = customer.select("c_custkey", "c_nationkey", "c_mktsegment")
    joined = (
        orders.select("o_orderkey", "o_custkey", "o_orderdate")
        .join(lines, F.col("o_orderkey") == F.col("l_orderkey"), "left")
        .join(customers, F.col("o_custkey") == F.col("c_custkey"), "left")
        .join(nation.select("n_nationkey", "n_name"), F.col("c_nationkey") == F.col("n_nationkey"), "left")
    )
    return joined.groupBy("o_orderdate", "n_name", "c_mktsegment").agg(
        F.countDistinct("o_orderkey").alias("orders"),
        F.count("l_orderkey").alias("line_items"),
        F.coalesce(F.sum("l_extendedprice"), F.lit(0)).alias("gross_revenue"),
        F.coalesce(F.sum("net"), F.lit(0)).alias("net_revenue"),
    )


def pricing_summary(lineitem: DataFrame) -> DataFrame:
    """TPC-H Q1 per ship_month x l_returnflag x l_linestatus: quantity, price, discount and charge sums and averages."""
    disc_price = net_price()
    return lineitem.groupBy(ship_month().alias("ship_month"), "l_returnflag", "l_linestatus").agg(
        F.sum("l_quantity").alias("sum_qty"),
        F.sum("l_extendedprice").alias("sum_base_price"),
        F.sum(disc_price).alias("sum_disc_price"),
        F.sum(disc_price * (F.lit(1) + F.col("l_tax"))).alias("sum_charge"),
        F.avg("l_quantity").alias("avg_qty"),
        F.avg("l_extendedprice").alias("avg_price"),
        F.avg("l_discount").alias("avg_disc"),
        F.count(F.lit(1)).alias("count_order"),
    )


PRICING_KEYS: tuple[str, ...] = ("ship_month", "l_returnflag", "l_linestatus")
# averaged mart column -> (its lineitem column, the partial's sum and non-null count of that column)
PRICING_AVERAGES: dict[str, tuple[str, str, str]] = {
    "avg_qty": ("l_quantity", "sum_qty", "count_qty"),
    "avg_price": ("l_extendedprice", "sum_base_price", "count_price"),
    "avg_disc": ("l_discount", "sum_disc", "count_disc"),
}


def pricing_partial(lineitem: DataFrame, by: tuple[str, ...] = ()) -> DataFrame:
    """Additive pieces of pricing_summary per `by` x its grain: sums, and the non-null counts behind each average."""
    disc_price = net_price()
    return lineitem.groupBy(*by, ship_month().alias("ship_month"), "l_returnflag", "l_linestatus").agg(
        F.sum("l_quantity").alias("sum_qty"),
        F.sum("l_extendedprice").alias("sum_base_price"),
        F.sum(disc_price).alias("sum_disc_price"),
        F.sum(disc_price * (F.lit(1) + F.col("l_tax"))).alias("sum_charge"),
        F.sum("l_discount").alias("sum_disc"),
        F.count("l_quantity").alias("count_qty"),
        F.count("l_extendedprice").alias("count_price"),
        F.count("l_discount").alias("count_disc"),
        F.count(F.lit(1)).alias("count_order"),
    )


def decimal_average(total: Column, count: Column, column: DecimalType) -> Column:
    """Spark's own `avg` of a `column`-typed decimal from its sum and non-null count, rounded the same way."""
    buffer = DecimalType(min(column.precision + 10, 38), column.scale)
    result = DecimalType(min(column.precision + 4, 38), min(column.scale + 4, 38))
    quotient = total.cast(buffer) / count.cast(DecimalType(20, 0))
    return F.when(count == 0, F.lit(None).cast(result)).otherwise(quotient.cast(result))


def pricing_from_partials(partials: DataFrame, lineitem_types: dict[str, DecimalType]) -> DataFrame:
    """pricing_summary from pricing_partial rows summed to its grain; averages are recomputed from sums and counts."""
    averages = [decimal_average(F.col(total), F.col(count), lineitem_types[column]).alias(name)
                for name, (column, total, count) in PRICING_AVERAGES.items()]
    return partials.select(*PRICING_KEYS, "sum_qty", "sum_base_price", "sum_disc_price", "sum_charge", *averages,
                           "count_order")


def customer_lifetime_value(
    customer: DataFrame, orders: DataFrame, lineitem: DataFrame, web_activity: DataFrame
) -> DataFrame:
    """One row per silver customer: orders, net_revenue (0 if none), first/last order date, web_sessions, page_views.

    `web_activity` is `gold_web.customer_web_activity(web_events)`.
    """
    order_net = lineitem.groupBy("l_orderkey").agg(F.sum(net_price()).alias("order_net"))
    per_customer = (
        orders.select("o_orderkey", "o_custkey", "o_orderdate")
        .join(order_net, F.col("o_orderkey") == F.col("l_orderkey"), "left")
        .groupBy("o_custkey")
        .agg(
            F.countDistinct("o_orderkey").alias("orders"),
            F.sum("order_net").alias("net_revenue"),
            F.min("o_orderdate").alias("first_order_date"),
            F.max("o_orderdate").alias("last_order_date"),
        )
    )
    return (
        customer.select("c_custkey", "c_name", "c_mktsegment")
        .join(per_customer, F.col("c_custkey") == F.col("o_custkey"), "left")
        .join(web_activity, F.col("c_custkey") == F.col("customer_key"), "left")
        .select(
            "c_custkey",
            "c_name",
            "c_mktsegment",
            F.coalesce(F.col("orders"), F.lit(0).cast("bigint")).alias("orders"),
            F.coalesce(F.col("net_revenue"), F.lit(0)).alias("net_revenue"),
            "first_order_date",
            "last_order_date",
            F.coalesce(F.col("web_sessions"), F.lit(0).cast("bigint")).alias("web_sessions"),
            F.coalesce(F.col("page_views"), F.lit(0).cast("bigint")).alias("page_views"),
        )
    )


def supplier_delivery_performance(lineitem: DataFrame, supplier: DataFrame) -> DataFrame:
    """One row per supplier x ship_year: line_items_shipped, late_receipts (receipt after commit), late_ratio."""
    return supplier_delivery_from_counts(supplier_delivery_counts(lineitem), supplier)


SUPPLIER_KEYS: tuple[str, ...] = ("s_suppkey", "ship_year")


def supplier_delivery_counts(lineitem: DataFrame, by: tuple[str, ...] = ()) -> DataFrame:
    """Per `by` x supplier x ship_year: line_items_shipped and late_receipts (receipt after commit), both additive."""
    late = F.when(F.col("l_receiptdate") > F.col("l_commitdate"), 1).otherwise(0)
    return lineitem.groupBy(*by, F.col("l_suppkey").alias("s_suppkey"), F.year("l_shipdate").alias("ship_year")).agg(
        F.count(F.lit(1)).alias("line_items_shipped"),
        F.sum(late).cast("bigint").alias("late_receipts"),
    )


def supplier_delivery_from_counts(counts: DataFrame, supplier: DataFrame) -> DataFrame:
    """supplier_delivery_performance from supplier_delivery_counts at its grain: supplier names and late_ratio added."""
    return counts.join(supplier.select("s_suppkey", "s_name"), "s_suppkey", "left").select(
        "s_suppkey",
        "ship_year",
        "s_name",
        "line_items_shipped",
        "late_receipts",
        (F.col("late_receipts") / F.col("line_items_shipped")).cast("double").alias("late_ratio"),
    )


def part_demand(lineitem: DataFrame, part: DataFrame) -> DataFrame:
    """One row per p_brand x p_type x ship_month: quantity (sum l_quantity) and net revenue."""
    parts = part.select("p_partkey", "p_brand", "p_type")
    joined = lineitem.join(parts, F.col("l_partkey") == F.col("p_partkey"), "left")
    return joined.groupBy("p_brand", "p_type", ship_month().alias("ship_month")).agg(
        F.sum("l_quantity").alias("quantity"),
        F.sum(net_price()).alias("revenue"),
    )
