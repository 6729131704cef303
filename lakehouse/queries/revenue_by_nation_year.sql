-- Net revenue (discounted, returned lines excluded) by customer nation and order year.
SELECT
    n.n_name AS nation,
    extract(year FROM o.o_orderdate) AS order_year,
    count(DISTINCT o.o_orderkey) AS orders,
    sum(l.l_extendedprice * (1 - l.l_discount)) AS net_revenue
FROM silver.lineitem AS l
JOIN silver.orders AS o ON l.l_orderkey = o.o_orderkey
JOIN silver.customer AS c ON o.o_custkey = c.c_custkey
JOIN silver.nation AS n ON c.c_nationkey = n.n_nationkey
WHERE l.l_returnflag <> 'R'
GROUP BY n.n_name, extract(year FROM o.o_orderdate)
ORDER BY nation, order_year
