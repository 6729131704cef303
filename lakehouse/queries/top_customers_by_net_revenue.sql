-- The 20 customers with the most net revenue (discounted, returned lines excluded).
SELECT
    c.c_custkey,
    c.c_name,
    n.n_name AS nation,
    c.c_mktsegment,
    count(DISTINCT o.o_orderkey) AS orders,
    sum(l.l_extendedprice * (1 - l.l_discount)) AS net_revenue,
    -- cast before dividing: Trino divides decimals by integers exactly, DuckDB in floating point
    CAST(sum(l.l_extendedprice * (1 - l.l_discount)) AS double) / count(DISTINCT o.o_orderkey) AS revenue_per_order
FROM silver.customer AS c
JOIN silver.orders AS o ON o.o_custkey = c.c_custkey
JOIN silver.lineitem AS l ON l.l_orderkey = o.o_orderkey
JOIN silver.nation AS n ON c.c_nationkey = n.n_nationkey
WHERE l.l_returnflag <> 'R'
GROUP BY c.c_custkey, c.c_name, n.n_name, c.c_mktsegment
ORDER BY net_revenue DESC, c.c_custkey
LIMIT 20
