"""Silver on both engines: the same tiny world built by DuckDB and by Spark writes identical silver and quarantine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from glue_scripts.common.reports import SilverReport, plain
from glue_scripts.common.specs import SILVER_BY_NAME
from glue_scripts.engine import make_engine
from lakehouse_tests.glue_scripts.helpers import one_day
from lakehouse_tests.glue_scripts.test_silver_build import D1, D2, build, part, write_bronze
from lakehouse_tests.glue_scripts.test_silver_foreign_keys import nation, region
from lakehouse_tests.glue_scripts.test_silver_standardize import CASES, WEB_ROWS, standardized, web_events

pytestmark = pytest.mark.usefixtures("one_shuffle_partition")

TABLES = (*SILVER_BY_NAME, "web_events")
UNSHARED = ("path", "quarantine_path")  # of a report; of a day, its `bytes`


DEFAULTS = {"bigint": "1", "int": "1", "decimal(15,2)": "1.00", "date": "1996-01-02", "string": "x"}
ACCEPTED = {"o_orderstatus": "F", "l_returnflag": "N", "l_linestatus": "O"}


def row(table: str, updated_at: str = "2024-01-01 10:00:00", **values: str | None) -> dict[str, str | None]:
    """One raw bronze row of `table`: every column a valid default unless given."""
    spec = SILVER_BY_NAME[table]
    return {**{c.name: ACCEPTED.get(c.name, DEFAULTS[c.type]) for c in spec.columns}, "updated_at": updated_at, **values}


def _world(root: Path) -> None:
    """Every table's day 1 and a day 2 for region and nation: drift, bad rows, exact duplicates, stale and tied
    versions, held rows and a late reference released, pre-1582 and impossible dates, web lines."""
    bronze = {"region": [region("0"), region("1"), region(" ")],
              "nation": [nation("0", "0"), nation("2", "2"), nation("3", "9"), nation("x", "0"), nation("1", "1")],
              "supplier": [row("supplier", s_suppkey="1", s_nationkey="0", s_acctbal="-0.12"),
                           row("supplier", s_suppkey="3", s_nationkey="0", s_acctbal="-0.125"),
                           row("supplier", s_suppkey="2", s_nationkey="1", s_name=" padded ")],
              "partsupp": [row("partsupp", ps_partkey="1", ps_suppkey="1"), row("partsupp", ps_partkey="3", ps_suppkey="9"),
                           row("partsupp", ps_partkey="1", ps_suppkey="2", ps_supplycost="1.005")],
              "customer": [row("customer", c_custkey="1", c_nationkey="0", c_mktsegment=" building"),
                           row("customer", c_custkey="2", c_nationkey="2")],
              "orders": [row("orders", o_orderkey="1", o_custkey="1", o_orderdate="02/29/1996"),
                         row("orders", o_orderkey="2", o_custkey="1", o_orderstatus="x", o_orderdate="1996-02-30"),
                         row("orders", o_orderkey="3", o_custkey="1", o_orderdate="0999-12-31", o_totalprice="12.5"),
                         row("orders", o_orderkey="4", o_custkey="1", updated_at="2024-01-01 24:00:00")],
              "lineitem": [row("lineitem", l_orderkey="1", l_partkey="1", l_suppkey="1", l_shipdate="03/13/1996"),
                           row("lineitem", l_orderkey="1", l_linenumber="2", l_partkey="1", l_suppkey="2"),
                           row("lineitem", l_orderkey="3", l_partkey="1", l_suppkey="1", l_tax="0.08"),
                           row("lineitem", l_orderkey="1", l_linenumber="3", l_partkey="3", l_suppkey="9"),
                           row("lineitem", l_orderkey="2", l_partkey="1", l_suppkey="1", l_returnflag="r")],
              "part": [
                  part(" 1 ", "2024-01-01 10:00:00"), part("3", "2024-01-01 10:00:00"), part("3", "2024-01-01 10:00:00"),
                  part("5", "2024-01-01 09:00:00", comment="tie-a"), part("5", "2024-01-01 09:00:00", comment="tie-b"),
                  part("7", "2024-01-01 10:00:00", size="-3"), part("8", "2024-01-01 10:00:00\n", price="12\n"),
                  part("9", "0999-01-01 10:00:00", price="-0.125"), part("10", "2024-01-01 10:00:00", _corrupt_record="10,a"),
                  part("11", "2024-01-01 10:00:00", price="99999999999999.99", size="3000000000"),
                  part("12", "2024-01-01 10:00:00", price=" .5 ", comment="\ttab\t")]}
    for table, rows in bronze.items():
        write_bronze(root, SILVER_BY_NAME[table].bronze, D1, rows)
    write_bronze(root, "files__region", D2, [region("2", "2024-01-02 00:00:00"), region("1", "2023-12-01 00:00:00")])
    write_bronze(root, "files__nation", D2, [nation("4", "0"), nation("0", "0"), {**nation("1", "1"), "n_comment": "v2",
                                             "updated_at": "2024-01-02 00:00:00"}, {**nation("3", "9"), "n_comment": "old",
                                             "updated_at": "2023-01-01 00:00:00"}], drift=True)
    good = {"raw_line": "l", "client": "1.2.3.4", "method": "GET", "referrer": "-", "user_agent": "Mozilla"}
    write_bronze(root, "logs__web_access", D1, [
        {**good, "ts": ts, "path": path, "status": status, "bytes": size}
        for ts, _, path, status, size, *_ in WEB_ROWS if ts is not None
    ] + [{"raw_line": "garbage", "_parse_error": True}])


PLAN: tuple[tuple[str, str], ...] = (
    *((t, D1) for t in ("region", "nation", "supplier", "part", "partsupp", "customer", "orders", "lineitem", "web_events")),
    ("region", D2), ("nation", D2), ("nation", D1),
)


def _build_all(root: Path, engine: str) -> list[SilverReport]:
    """Every table's day 1 in dependency order, then region and nation day 2 (a release), then a rerun of
    nation day 1; each table's quality on its last run."""
    _world(root)
    last = {table: i for i, (table, _) in enumerate(PLAN)}
    return [build(root, table, day, run_id=f"r{i}", quality=last[table] == i and table != "web_events", engine=engine)
            for i, (table, day) in enumerate(PLAN)]


def _naive_utc(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with aware timestamps (DuckDB's) as naive UTC ones (what Spark's collect gives in a UTC session)."""
    def plain(v: Any) -> Any:
        return v.astimezone(dt.timezone.utc).replace(tzinfo=None) if isinstance(v, dt.datetime) and v.tzinfo else v

    return [{k: plain(v) for k, v in r.items()} for r in rows]


def _relation(con: duckdb.DuckDBPyConnection, root: Path, layer: str, table: str) -> str:
    files = sorted(str(p) for p in (root / layer / table).glob("ingestion_date=*/*.parquet"))
    listed = ", ".join(f"'{f}'" for f in files)
    return f"read_parquet([{listed}], hive_partitioning = true)"


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory, spark: SparkSession) -> dict[str, Any]:
    """The world built on each engine: its root and the job results."""
    out = {}
    for engine in ("duckdb", "spark"):
        root = tmp_path_factory.mktemp(engine)
        out[engine] = (root, _build_all(root, engine))
    return out


@pytest.mark.parametrize("layer", ["silver", "quarantine"])
@pytest.mark.parametrize("table", TABLES)
def test_engines_write_identical_tables(worlds: dict[str, Any], layer: str, table: str) -> None:
    (duck_root, _), (spark_root, _) = worlds["duckdb"], worlds["spark"]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    a, b = _relation(con, duck_root, layer, table), _relation(con, spark_root, layer, table)
    for left, right in ((a, b), (b, a)):
        assert con.sql(f"SELECT * FROM {left} EXCEPT ALL SELECT * FROM {right}").fetchall() == []
    assert con.sql(f"SELECT count(*) FROM {a}").fetchall()[0][0] > 0
    schema = [pq.read_schema(next((root / layer / table).glob("ingestion_date=*/*.parquet"))) for root in (duck_root, spark_root)]
    assert [(f.name, str(f.type)) for f in schema[0]] == [(f.name, str(f.type)) for f in schema[1]]


def _shared(report: SilverReport) -> dict[str, Any]:
    """The report without what differs by engine: its folders and the Parquet bytes each engine wrote."""
    shared = {k: v for k, v in plain(report).items() if k not in UNSHARED}
    shared["days"] = {day: {k: v for k, v in counts.items() if k != "bytes"} for day, counts in shared["days"].items()}
    return shared


def test_engines_report_identical_results(worlds: dict[str, Any]) -> None:
    duck, spark = ([_shared(r) for r in results] for _, results in (worlds["duckdb"], worlds["spark"]))
    assert duck == spark
    nation_d2 = one_day(worlds["duckdb"][1][PLAN.index(("nation", D2))])
    assert (nation_d2.released, nation_d2.replaced, nation_d2.exact_duplicates, nation_d2.held) == (1, 1, 1, 1)
    lineitem = one_day(worlds["duckdb"][1][PLAN.index(("lineitem", D1))])
    assert (lineitem.held, lineitem.contributing) == (3, 2), lineitem


def test_standardize_and_log_parsing_agree(spark: SparkSession, tmp_path: Path) -> None:
    engines = [make_engine("duckdb"), make_engine("spark", spark)]
    rows = [_naive_utc(standardized(e, tmp_path / e.name, [c for c, _ in CASES])) for e in engines]
    assert [r["_rules"] for r in rows[1]] == [rules for _, rules in CASES]
    assert rows[0] == rows[1]
    logs = [_naive_utc(web_events(e, tmp_path / f"{e.name}_web", WEB_ROWS)) for e in engines]
    assert logs[0] == logs[1]
