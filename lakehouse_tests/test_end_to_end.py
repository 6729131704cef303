"""The truth test: simulate, `lakehouse run` every day, then hold each layer to the ground truth.

Silver must equal the clean TPC-H tables exactly, quarantine must hold exactly the seeded bad rows,
bronze must hold every delivered row, gold must equal an independent DuckDB computation on the clean
TPC-H data and the simulator's web truth, and Snowflake must equal gold.

CI runs it at SF 0.01 over 3 days on both engines (DuckDB, the local default, and Spark, what Glue runs);
`LAKEHOUSE_TRUTH_SF=0.1 pytest lakehouse_tests/test_end_to_end.py`
runs the same test at a larger scale factor.
"""

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd
import pytest

from glue_scripts.common.catalogue import CATALOGUE, LAYERS
from glue_scripts.common.specs import SILVER_SPECS
from glue_scripts.engine.dialect import sql_type
from lakehouse.resources import FakesnowResource
from lakehouse_tests.fixtures.worlds import LakehouseRun, lakehouse_env

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
LAKEHOUSE = str(Path(sys.executable).with_name("lakehouse"))
DAGSTER = str(Path(sys.executable).with_name("dagster"))


class World(NamedTuple):
    """One finished `lakehouse run`: its root, the simulator's manifest, the command's outcome and its engine."""

    root: Path
    manifest: dict
    done: subprocess.CompletedProcess
    engine: str


@pytest.fixture(scope="module", params=["duckdb", "spark"])
def world(request: pytest.FixtureRequest, lakehouse_run: LakehouseRun, spark_lakehouse_run: LakehouseRun) -> World:
    """The session's `lakehouse run` on each engine: the truth holds on both."""
    run = lakehouse_run if request.param == "duckdb" else spark_lakehouse_run
    done = run.result()
    return World(run.root, json.loads((run.root / "sources" / "manifest.json").read_text()), done, run.engine)


def _parquet(root: Path, layer: str, table: str) -> str:
    return f"read_parquet('{root / layer / table}/ingestion_date=*/*.parquet', hive_partitioning = true, union_by_name = true)"


def test_run_succeeds_and_summarizes(world) -> None:
    _, manifest, done, _ = world
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    assert "silver.lineitem" in done.stdout
    assert "checks passed" in done.stderr
    for day in manifest["days"]:
        assert day in done.stderr


def test_bronze_partitions_hold_every_delivered_row(world) -> None:
    root, manifest, _, _ = world
    con = duckdb.connect()
    for table, entry in manifest["tables"].items():
        counts = dict(con.execute(
            f"SELECT CAST(ingestion_date AS VARCHAR), count(*) FROM {_parquet(root, 'bronze', table)} GROUP BY 1"
        ).fetchall())
        expected = {day: stats["rows_delivered"] for day, stats in entry["days"].items()}
        assert {d: counts.get(d, 0) for d in expected} == expected, table
    corrupt = manifest["logs"]["corrupt_file"]
    quarantined = root / "quarantine" / "_files" / "logs__web_access" / f"ingestion_date={corrupt['ingestion_date']}"
    assert (quarantined / Path(corrupt["path"]).name).exists()


@pytest.mark.parametrize("spec", SILVER_SPECS, ids=lambda s: s.name)
def test_silver_equals_clean_tpch(world, spec) -> None:
    root = world.root
    columns = ", ".join(spec.column_names)
    con = duckdb.connect()
    silver = f"SELECT {columns} FROM {_parquet(root, 'silver', spec.name)}"
    truth = f"SELECT {columns} FROM read_parquet('{root / 'sources' / 'tpch' / spec.name}.parquet')"
    assert con.execute(f"SELECT count(*) FROM ({silver} EXCEPT ALL {truth})").fetchone()[0] == 0
    assert con.execute(f"SELECT count(*) FROM ({truth} EXCEPT ALL {silver})").fetchone()[0] == 0
    assert con.execute(f"SELECT count(*) FROM ({silver})").fetchone()[0] == con.execute(f"SELECT count(*) FROM ({truth})").fetchone()[0]


def test_quarantine_holds_exactly_the_bad_rows(world) -> None:
    root, manifest, _, _ = world
    con = duckdb.connect()
    for table, entry in manifest["tables"].items():
        expected = {rule: n for rule, n in entry["totals"]["bad_rows"].items() if n}
        path = root / "quarantine" / entry["silver_table"]
        actual = dict(con.execute(
            f"SELECT rule, count(*) FROM (SELECT unnest(_rules) AS rule FROM {_parquet(root, 'quarantine', entry['silver_table'])}) GROUP BY 1"
        ).fetchall()) if path.exists() else {}
        assert actual == expected, table


WEB_COLUMNS = "ts, client, method, path, status, bytes, customer_key, part_key, is_bot"


def test_silver_web_events_equal_the_simulated_requests(world) -> None:
    root, manifest, _, _ = world
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    silver = f"SELECT {WEB_COLUMNS} FROM {_parquet(root, 'silver', 'web_events')}"
    truth = f"SELECT {WEB_COLUMNS} FROM read_parquet('{root / manifest['logs']['truth']}')"
    assert con.execute(f"SELECT count(*) FROM ({truth})").fetchone()[0] > 0
    assert con.execute(f"SELECT count(*) FROM ({silver} EXCEPT ALL {truth})").fetchone()[0] == 0
    assert con.execute(f"SELECT count(*) FROM ({truth} EXCEPT ALL {silver})").fetchone()[0] == 0


DAILY_REVENUE = """
SELECT o.o_orderdate, n.n_name, c.c_mktsegment, count(DISTINCT o.o_orderkey) AS orders, count(*) AS line_items,
       sum(l.l_extendedprice) AS gross_revenue, sum(l.l_extendedprice * (1 - l.l_discount)) AS net_revenue
FROM t.lineitem l JOIN t.orders o ON l.l_orderkey = o.o_orderkey JOIN t.customer c ON o.o_custkey = c.c_custkey
JOIN t.nation n ON c.c_nationkey = n.n_nationkey GROUP BY ALL"""
PART_DEMAND = """
SELECT p.p_brand, p.p_type, date_trunc('month', l.l_shipdate)::DATE AS ship_month, sum(l.l_quantity) AS quantity,
       sum(l.l_extendedprice * (1 - l.l_discount)) AS revenue
FROM t.lineitem l JOIN t.part p ON l.l_partkey = p.p_partkey GROUP BY ALL"""
PRICING = """
SELECT date_trunc('month', l_shipdate)::DATE AS ship_month, l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty,
       sum(l_extendedprice) AS sum_base_price, sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
       sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, count(*) AS count_order
FROM t.lineitem GROUP BY ALL"""
SUPPLIER_DELIVERY = """
SELECT l_suppkey AS s_suppkey, year(l_shipdate) AS ship_year, s_name, count(*) AS line_items_shipped,
       count(*) FILTER (WHERE l_receiptdate > l_commitdate) AS late_receipts,
       count(*) FILTER (WHERE l_receiptdate > l_commitdate) / count(*) AS late_ratio
FROM t.lineitem JOIN t.supplier ON l_suppkey = s_suppkey GROUP BY ALL"""
SESSIONS = """
CREATE VIEW t.sessions AS
WITH gaps AS (
    SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY client ORDER BY ts) <= INTERVAL 30 MINUTE THEN 0 ELSE 1 END AS starts
    FROM t.web_events WHERE NOT is_bot),
numbered AS (SELECT *, sum(starts) OVER (PARTITION BY client ORDER BY ts ROWS UNBOUNDED PRECEDING) AS session_no FROM gaps)
SELECT *, min(ts) OVER (PARTITION BY client, session_no) AS session_start FROM numbered"""
WEB_TRAFFIC = """
WITH daily AS (
    SELECT ts::DATE AS event_date, count(*) AS page_views, count(*) FILTER (WHERE is_bot) / count(*) AS bot_share,
           count(DISTINCT customer_key) FILTER (WHERE NOT is_bot) AS unique_customers
    FROM t.web_events GROUP BY ALL),
started AS (SELECT session_start::DATE AS event_date, count(DISTINCT (client, session_no)) AS sessions FROM t.sessions GROUP BY ALL),
views AS (SELECT ts::DATE AS event_date, part_key, count(*) AS views FROM t.sessions WHERE part_key IS NOT NULL GROUP BY ALL),
ranked AS (SELECT *, row_number() OVER (PARTITION BY event_date ORDER BY views DESC, part_key) AS rank FROM views),
top AS (SELECT event_date, list(part_key ORDER BY rank) AS top_parts FROM ranked WHERE rank <= 5 GROUP BY ALL)
SELECT event_date, page_views, bot_share, coalesce(sessions, 0) AS sessions, unique_customers,
       coalesce(top_parts, []) AS top_parts
FROM daily LEFT JOIN started USING (event_date) LEFT JOIN top USING (event_date)"""
CUSTOMER_LIFETIME_VALUE = """
WITH order_net AS (SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS net FROM t.lineitem GROUP BY ALL),
per_customer AS (
    SELECT o_custkey, count(*) AS orders, sum(net) AS net_revenue, min(o_orderdate) AS first_order_date,
           max(o_orderdate) AS last_order_date
    FROM t.orders LEFT JOIN order_net ON o_orderkey = l_orderkey GROUP BY ALL),
web AS (
    SELECT customer_key, count(DISTINCT (client, session_no)) AS web_sessions, count(*) AS page_views
    FROM t.sessions WHERE customer_key IS NOT NULL GROUP BY ALL)
SELECT c_custkey, c_name, c_mktsegment, coalesce(orders, 0) AS orders, coalesce(net_revenue, 0) AS net_revenue,
       first_order_date, last_order_date, coalesce(web_sessions, 0) AS web_sessions, coalesce(page_views, 0) AS page_views
FROM t.customer LEFT JOIN per_customer ON c_custkey = o_custkey LEFT JOIN web ON c_custkey = customer_key"""
GOLD_TRUTH = {
    "daily_revenue": DAILY_REVENUE, "part_demand": PART_DEMAND, "pricing_summary": PRICING,
    "supplier_delivery_performance": SUPPLIER_DELIVERY, "web_traffic_daily": WEB_TRAFFIC,
    "customer_lifetime_value": CUSTOMER_LIFETIME_VALUE,
}


def test_every_mart_has_an_independent_computation() -> None:
    from glue_scripts.transforms.gold import mart_names

    assert sorted(GOLD_TRUTH) == sorted(mart_names())


@pytest.mark.parametrize("mart", sorted(GOLD_TRUTH))
def test_gold_equals_independent_computation(world, mart: str) -> None:
    """Each mart equals plain DuckDB SQL over the clean TPC-H tables and the simulator's web truth."""
    root, manifest, _, _ = world
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'; CREATE SCHEMA t")
    for name in ("lineitem", "orders", "customer", "nation", "part", "supplier"):
        con.execute(f"CREATE VIEW t.{name} AS SELECT * FROM read_parquet('{root / 'sources' / 'tpch' / name}.parquet')")
    con.execute(f"CREATE VIEW t.web_events AS SELECT * FROM read_parquet('{root / manifest['logs']['truth']}')")
    con.execute(SESSIONS)
    expected = con.execute(GOLD_TRUTH[mart]).fetch_df()
    columns = ", ".join(expected.columns)
    gold = con.execute(f"SELECT {columns} FROM read_parquet('{root / 'gold' / mart}/*.parquet')").fetch_df()
    key = list(expected.columns[:3])
    expected = expected.sort_values(key).reset_index(drop=True)
    gold = gold.sort_values(key).reset_index(drop=True)
    assert len(gold) == len(expected) > 0
    for column in expected.columns:
        assert [_exact(v) for v in gold[column]] == [_exact(v) for v in expected[column]], column


def _exact(value: object) -> object:
    """Numbers as exact decimals (counts come back as ints on one side), lists item by item, the rest as it is."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_exact(v) for v in value]
    if isinstance(value, (int, float, Decimal, np.integer, np.floating)) and not isinstance(value, bool):
        return Decimal(str(value))
    return None if pd.isna(value) else value


def test_incremental_marts_recompute_only_the_new_days_partial(world) -> None:
    import dagster as dg

    root, manifest, _, _ = world
    last = manifest["days"][-1]
    with dg.DagsterInstance.from_config(str(root / "dagster")) as instance:
        def metadata(mart: str) -> dict:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(["gold", mart]), asset_partitions=[last]), limit=1).records
            return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}

        assert metadata("daily_revenue")["recompute"] == "full"
        pricing = metadata("pricing_summary")
        assert pricing["recompute"] == "incremental"
        assert last in pricing["partials_recomputed"].split(", ")
        assert pricing["partials_reused"] >= 1


def _snowflake_rows(root: Path, mart: str) -> list[tuple]:
    snowflake = FakesnowResource(account="fakesnow", user="lakehouse", password="fakesnow", database="LAKEHOUSE",
                                 schema="GOLD", db_path=str(root / "snowflake"))
    with snowflake.get_connection() as conn:
        rows = conn.cursor().execute(f'SELECT * FROM "{mart.upper()}"').fetchall()
    return sorted((tuple(_exact(json.loads(v) if isinstance(v, str) and v.startswith("[") else v) for v in row)
                   for row in rows), key=repr)


def _gold_rows(root: Path, mart: str) -> list[tuple]:
    table = duckdb.connect().sql(f"SELECT * FROM read_parquet('{root / 'gold' / mart}/*.parquet')").to_arrow_table()
    return sorted((tuple(_exact(v) for v in row.values()) for row in table.to_pylist()), key=repr)


def test_snowflake_equals_gold_and_a_republish_changes_nothing(world) -> None:
    from glue_scripts.transforms.gold import mart_names

    root, manifest, _, _ = world
    for mart in mart_names():
        gold = _gold_rows(root, mart)
        assert len(gold) > 0 and _snowflake_rows(root, mart) == gold, mart
    done = subprocess.run([DAGSTER, "asset", "materialize", "-m", "lakehouse.definitions", "--select", ",".join(f"snowflake/{m}" for m in mart_names()),
                           "--partition", manifest["days"][-1]], cwd=REPO, env=lakehouse_env(root, world.engine),
                          capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    for mart in mart_names():
        assert _snowflake_rows(root, mart) == _gold_rows(root, mart), mart


def test_query_command_reads_gold(world) -> None:
    root = world.root
    done = subprocess.run([LAKEHOUSE, "query", "--root", str(root), "--format", "csv",
                           "SELECT * FROM gold.daily_revenue LIMIT 5"], env=lakehouse_env(root, world.engine),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("o_orderdate,n_name,c_mktsegment") and len(lines) == 6


def test_rerunning_a_silver_partition_through_the_dagster_cli_changes_nothing(world) -> None:
    root, manifest, _, _ = world
    con = duckdb.connect()
    snapshot = f"SELECT * EXCLUDE (_run_id) FROM {_parquet(root, 'silver', 'orders')} ORDER BY o_orderkey"
    before = con.execute(snapshot).fetchall()
    day = manifest["days"][1]
    done = subprocess.run([DAGSTER, "asset", "materialize", "-m", "lakehouse.definitions", "--select", "silver/orders",
                           "--partition", day], cwd=REPO, env=lakehouse_env(root, world.engine), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "RUN_SUCCESS" in done.stderr + done.stdout
    assert con.execute(snapshot).fetchall() == before


@pytest.mark.parametrize("number", range(1, 23), ids=lambda n: f"q{n:02d}")
def test_tpch_queries_on_pipeline_silver_match_duckdb_on_clean_data(world, number: int) -> None:
    from lakehouse.resources import DuckDBAthena, LocalCatalog
    from lakehouse_tests.test_queries import REFERENCE, TPCH, _assert_same

    root = world.root
    engine = DuckDBAthena(catalog=LocalCatalog(path=str(root / "catalog")))
    reference = duckdb.connect()
    for spec in SILVER_SPECS:
        reference.execute(f"CREATE VIEW {spec.name} AS SELECT * FROM read_parquet('{root / 'sources' / 'tpch' / spec.name}.parquet')")
    _assert_same(engine.query((TPCH / f"q{number:02d}.sql").read_text()), reference.sql(REFERENCE[number]).to_arrow_table())


def test_every_bronze_table_is_queryable_through_the_catalog(world) -> None:
    from lakehouse.resources import DuckDBAthena, LocalCatalog

    root, manifest, _, _ = world
    engine = DuckDBAthena(catalog=LocalCatalog(path=str(root / "catalog")))
    for table, entry in manifest["tables"].items():
        rows = engine.query(f"SELECT count(*) AS n FROM bronze.{table}").column(0)[0].as_py()
        assert rows == entry["totals"]["rows_delivered"], table


def test_every_table_is_written_with_the_columns_and_types_the_catalogue_declares(world) -> None:
    """Silver, quarantine and gold files carry exactly the declared columns and types, in order; bronze files carry
    every declared column (drift and defect columns come on top)."""
    con = duckdb.connect()
    for layer in LAYERS:
        for entry in CATALOGUE[layer].values():
            source = (f"read_parquet('{world.root / 'gold' / entry.name}/*.parquet')" if layer == "gold"
                      else _parquet(world.root, layer, entry.name))
            written = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
                       if r[0] != "ingestion_date"]
            declared = [(name, sql_type(kind).replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"))
                        for name, kind in entry.columns]
            if layer == "bronze":
                assert set(declared) <= set(written), entry.key
            else:
                assert written == declared, entry.key
