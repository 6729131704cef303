"""The six gold marts as DuckDB SQL over the floor's silver tables, with the Spark marts' joins and measures."""

from __future__ import annotations

NET = "l_extendedprice * (1 - l_discount)"
SESSIONS = """(
    WITH human AS (SELECT * FROM silver_web_events WHERE ts IS NOT NULL AND NOT coalesce(is_bot, false)),
    gaps AS (SELECT *, CASE WHEN lag(ts) OVER (PARTITION BY client ORDER BY ts) IS NULL
                              OR ts - lag(ts) OVER (PARTITION BY client ORDER BY ts) > INTERVAL 30 MINUTE THEN 1 ELSE 0 END AS starts
             FROM human),
    numbered AS (SELECT *, sum(starts) OVER (PARTITION BY client ORDER BY ts ROWS UNBOUNDED PRECEDING) AS session_no FROM gaps)
    SELECT *, min(ts) OVER (PARTITION BY client, session_no) AS session_start FROM numbered)"""

MART_SQL: dict[str, str] = {
    "daily_revenue": f"""
        SELECT o_orderdate, n_name, c_mktsegment, count(DISTINCT o_orderkey) AS orders, count(l_orderkey) AS line_items,
               coalesce(sum(l_extendedprice), 0) AS gross_revenue, coalesce(sum({NET}), 0) AS net_revenue
        FROM silver_orders LEFT JOIN silver_lineitem ON o_orderkey = l_orderkey
        LEFT JOIN silver_customer ON o_custkey = c_custkey LEFT JOIN silver_nation ON c_nationkey = n_nationkey
        GROUP BY ALL ORDER BY ALL""",
    "pricing_summary": f"""
        SELECT CAST(date_trunc('month', l_shipdate) AS DATE) AS ship_month, l_returnflag, l_linestatus,
               sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price, sum({NET}) AS sum_disc_price,
               sum({NET} * (1 + l_tax)) AS sum_charge, CAST(avg(l_quantity) AS DECIMAL(19, 6)) AS avg_qty, CAST(avg(l_extendedprice) AS DECIMAL(19, 6)) AS avg_price,
               CAST(avg(l_discount) AS DECIMAL(19, 6)) AS avg_disc, count(*) AS count_order
        FROM silver_lineitem GROUP BY ALL ORDER BY 1, 2, 3""",
    "customer_lifetime_value": f"""
        WITH order_net AS (SELECT l_orderkey, sum({NET}) AS order_net FROM silver_lineitem GROUP BY ALL),
        per_customer AS (
            SELECT o_custkey, count(DISTINCT o_orderkey) AS orders, sum(order_net) AS net_revenue,
                   min(o_orderdate) AS first_order_date, max(o_orderdate) AS last_order_date
            FROM silver_orders LEFT JOIN order_net ON o_orderkey = l_orderkey GROUP BY ALL),
        web AS (
            SELECT customer_key, count(DISTINCT (client, session_no)) AS web_sessions, count(*) AS page_views
            FROM {SESSIONS} WHERE customer_key IS NOT NULL GROUP BY ALL)
        SELECT c_custkey, c_name, c_mktsegment, coalesce(orders, 0) AS orders, coalesce(net_revenue, 0) AS net_revenue,
               first_order_date, last_order_date, coalesce(web_sessions, 0) AS web_sessions, coalesce(page_views, 0) AS page_views
        FROM silver_customer LEFT JOIN per_customer ON c_custkey = o_custkey LEFT JOIN web ON c_custkey = customer_key
        ORDER BY c_custkey""",
    "supplier_delivery_performance": """
        WITH per_year AS (
            SELECT l_suppkey AS s_suppkey, year(l_shipdate) AS ship_year, count(*) AS line_items_shipped,
                   CAST(count(*) FILTER (WHERE l_receiptdate > l_commitdate) AS BIGINT) AS late_receipts
            FROM silver_lineitem GROUP BY ALL)
        SELECT p.s_suppkey, ship_year, s_name, line_items_shipped, late_receipts,
               CAST(late_receipts / line_items_shipped AS DOUBLE) AS late_ratio
        FROM per_year p LEFT JOIN silver_supplier s ON p.s_suppkey = s.s_suppkey ORDER BY 1, 2""",
    "web_traffic_daily": f"""
        WITH daily AS (
            SELECT CAST(ts AS DATE) AS event_date, count(*) AS page_views,
                   CAST(count(*) FILTER (WHERE coalesce(is_bot, false)) / count(*) AS DOUBLE) AS bot_share,
                   count(DISTINCT customer_key) FILTER (WHERE NOT coalesce(is_bot, false)) AS unique_customers
            FROM silver_web_events WHERE ts IS NOT NULL GROUP BY ALL),
        sessions AS (SELECT * FROM {SESSIONS}),
        started AS (SELECT CAST(session_start AS DATE) AS event_date, count(DISTINCT (client, session_no)) AS sessions
                    FROM sessions GROUP BY ALL),
        views AS (SELECT CAST(ts AS DATE) AS event_date, part_key, count(*) AS views FROM sessions
                  WHERE part_key IS NOT NULL GROUP BY ALL),
        top AS (SELECT event_date, list(part_key ORDER BY rank) AS top_parts FROM (
                    SELECT *, row_number() OVER (PARTITION BY event_date ORDER BY views DESC, part_key) AS rank FROM views)
                WHERE rank <= 5 GROUP BY ALL)
        SELECT event_date, page_views, bot_share, coalesce(sessions, 0) AS sessions, unique_customers,
               coalesce(top_parts, CAST([] AS BIGINT[])) AS top_parts
        FROM daily LEFT JOIN started USING (event_date) LEFT JOIN top USING (event_date) ORDER BY event_date""",
    "part_demand": f"""
        SELECT p_brand, p_type, CAST(date_trunc('month', l_shipdate) AS DATE) AS ship_month, sum(l_quantity) AS quantity,
               sum({NET}) AS revenue
        FROM silver_lineitem LEFT JOIN silver_part ON l_partkey = p_partkey GROUP BY ALL ORDER BY 1, 2, 3""",
}
