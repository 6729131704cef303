-- Quarantined rows per TPC-H table and broken rule (a row breaking two rules counts under both).
WITH quarantined AS (
    SELECT 'lineitem' AS table_name, _rules FROM quarantine.lineitem
    UNION ALL
    SELECT 'orders' AS table_name, _rules FROM quarantine.orders
    UNION ALL
    SELECT 'customer' AS table_name, _rules FROM quarantine.customer
    UNION ALL
    SELECT 'part' AS table_name, _rules FROM quarantine.part
    UNION ALL
    SELECT 'supplier' AS table_name, _rules FROM quarantine.supplier
    UNION ALL
    SELECT 'partsupp' AS table_name, _rules FROM quarantine.partsupp
    UNION ALL
    SELECT 'nation' AS table_name, _rules FROM quarantine.nation
    UNION ALL
    SELECT 'region' AS table_name, _rules FROM quarantine.region
)
SELECT
    q.table_name,
    r.rule,
    count(*) AS quarantined_rows
FROM quarantined AS q
CROSS JOIN UNNEST(q._rules) AS r (rule)
GROUP BY q.table_name, r.rule
ORDER BY quarantined_rows DESC, q.table_name, r.rule
