-- Share of each TPC-H table's rows that went to quarantine, per ingestion day:
-- quarantined / (silver + quarantined). Every quarantine.<table> must be catalogued (it is once a table
-- has quarantined a row). ingestion_date is cast to varchar: Glue types partition columns as string,
-- DuckDB's hive partitioning would read it as a date.
WITH silver_rows AS (
    SELECT 'lineitem' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS silver_rows FROM silver.lineitem GROUP BY 2
    UNION ALL
    SELECT 'orders' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS silver_rows FROM silver.orders GROUP BY 2
    UNION ALL
    SELECT 'customer' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS silver_rows FROM silver.customer GROUP BY 2
    UNION ALL
    SELECT 'part' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS silver_rows FROM silver.part GROUP BY 2
    UNION ALL
    SELECT 'supplier' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS silver_rows FROM silver.supplier GROUP BY 2
    UNION ALL
    SELECT 'partsupp' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS silver_rows FROM silver.partsupp GROUP BY 2
    UNION ALL
    SELECT 'nation' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS silver_rows FROM silver.nation GROUP BY 2
    UNION ALL
    SELECT 'region' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS silver_rows FROM silver.region GROUP BY 2
),
quarantined_rows AS (
    SELECT 'lineitem' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS quarantined_rows FROM quarantine.lineitem GROUP BY 2
    UNION ALL
    SELECT 'orders' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS quarantined_rows FROM quarantine.orders GROUP BY 2
    UNION ALL
    SELECT 'customer' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS quarantined_rows FROM quarantine.customer GROUP BY 2
    UNION ALL
    SELECT 'part' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS quarantined_rows FROM quarantine.part GROUP BY 2
    UNION ALL
    SELECT 'supplier' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS quarantined_rows FROM quarantine.supplier GROUP BY 2
    UNION ALL
    SELECT 'partsupp' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS quarantined_rows FROM quarantine.partsupp GROUP BY 2
    UNION ALL
    SELECT 'nation' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS quarantined_rows FROM quarantine.nation GROUP BY 2
    UNION ALL
    SELECT 'region' AS table_name, CAST(ingestion_date AS varchar) AS ingestion_date, count(*) AS quarantined_rows FROM quarantine.region GROUP BY 2
)
SELECT
    coalesce(s.table_name, q.table_name) AS table_name,
    coalesce(s.ingestion_date, q.ingestion_date) AS ingestion_date,
    coalesce(s.silver_rows, 0) AS silver_rows,
    coalesce(q.quarantined_rows, 0) AS quarantined_rows,
    CAST(coalesce(q.quarantined_rows, 0) AS double)
        / (coalesce(s.silver_rows, 0) + coalesce(q.quarantined_rows, 0)) AS quarantine_share
FROM silver_rows AS s
FULL OUTER JOIN quarantined_rows AS q
    ON s.table_name = q.table_name AND s.ingestion_date = q.ingestion_date
ORDER BY quarantine_share DESC, table_name, ingestion_date
