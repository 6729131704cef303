"""The invariant: standardizing the delivered data and keeping the newest valid version per key gives TPC-H."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from lakehouse_tests.sources.reference import differences, raw_api, raw_db, raw_files, rule_failures, silver

FILE_TABLES = ("region", "nation", "supplier", "part", "partsupp")


@pytest.fixture(scope="module")
def reference(world: Path) -> duckdb.DuckDBPyConnection:
    """Every table rebuilt by the reference reader from what the sources delivered."""
    tpch = world / "sources" / "tpch"
    parents = {t: str(tpch / f"{t}.parquet") for t in ("region", "nation", "supplier", "part", "customer", "orders")}
    con = duckdb.connect()
    for table in FILE_TABLES:
        silver(con, table, raw_files(world, table), parents)
    silver(con, "customer", raw_api(world), parents)
    silver(con, "orders", raw_db(world, "orders"), parents)
    silver(con, "lineitem", raw_db(world, "lineitem"), parents)
    return con


@pytest.mark.parametrize("table", ["orders", "lineitem", "customer", *FILE_TABLES])
def test_latest_valid_version_equals_tpch(reference: duckdb.DuckDBPyConnection, world: Path, table: str) -> None:
    assert differences(reference, table, world / "sources" / "tpch") == (0, 0)


def test_format_variations_reach_the_database(world: Path) -> None:
    """Padding, lower case and MM/DD/YYYY dates are all delivered, so the invariant above exercises them."""
    raw = raw_db(world, "orders")
    padded = raw["o_orderkey"].str.strip() != raw["o_orderkey"]
    lowered = raw["o_orderstatus"].str.upper() != raw["o_orderstatus"]
    slashed = raw["o_orderdate"].str.contains("/", na=False)
    assert padded.any() and lowered.any() and slashed.any()


def test_every_tpch_row_is_delivered_and_customers_arrive_by_the_last_day(world: Path, manifest: dict) -> None:
    con = duckdb.connect()
    con.register("api", raw_api(world))
    tpch = world / "sources" / "tpch"
    end = str(date.fromisoformat(manifest["days"][-1]) + timedelta(days=1))
    missing = con.execute(
        f"""SELECT count(*) FROM (SELECT DISTINCT o_custkey FROM read_parquet('{tpch / 'orders.parquet'}'))
        WHERE o_custkey NOT IN (SELECT TRY_CAST(trim(c_custkey) AS BIGINT) FROM api
                                WHERE system_modstamp < '{end}' AND c_custkey IS NOT NULL)"""
    ).fetchone()[0]
    assert missing == 0


def test_bad_rows_never_win_for_an_existing_key(world: Path) -> None:
    """Bad rows that reuse a key are older than that key's true version."""
    con = duckdb.connect()
    con.register("raw", raw_db(world, "lineitem"))
    newer_bad = con.execute(
        """WITH bad AS (SELECT l_orderkey, l_linenumber, updated_at FROM raw WHERE l_quantity LIKE '-%'),
        good AS (SELECT l_orderkey, l_linenumber, max(updated_at) AS t FROM raw WHERE l_quantity NOT LIKE '-%' GROUP BY ALL)
        SELECT count(*) FROM bad JOIN good USING (l_orderkey, l_linenumber) WHERE bad.updated_at >= good.t"""
    ).fetchone()[0]
    assert newer_bad == 0


BRONZE = {"orders": "db__orders", "lineitem": "db__lineitem", "customer": "api__customers", "part": "files__part",
          "supplier": "files__supplier", "partsupp": "files__partsupp", "nation": "files__nation", "region": "files__region"}


@pytest.mark.parametrize("table", list(BRONZE))
def test_each_bad_row_breaks_exactly_one_rule_and_is_counted(world: Path, manifest: dict, table: str) -> None:
    tpch = world / "sources" / "tpch"
    parents = {t: str(tpch / f"{t}.parquet") for t in ("region", "nation", "supplier", "part", "customer", "orders")}
    raw = {"orders": lambda: raw_db(world, "orders"), "lineitem": lambda: raw_db(world, "lineitem"),
           "customer": lambda: raw_api(world)}.get(table, lambda: raw_files(world, table))()
    counts, multiple = rule_failures(duckdb.connect(), table, raw, parents)
    expected = manifest["tables"][BRONZE[table]]["totals"]["bad_rows"]
    assert multiple == 0
    assert counts == {rule: expected[rule] for rule in counts}
