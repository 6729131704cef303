"""gold_build on both engines: every mart equals an independent DuckDB computation over the same silver, the two
engines' marts and partials are identical (EXCEPT ALL both ways, same Parquet schema, same report); empty input; reruns."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from glue_scripts.common.reports import GoldReport, plain
from glue_scripts.common.specs import SILVER_BY_NAME
from glue_scripts.common.writer import write_arrow
from glue_scripts.jobs.gold_build import run
from glue_scripts.transforms.gold import MART_DESCRIPTIONS, MARTS_BY_NAME, mart_names
from lakehouse_tests.glue_scripts.helpers import one_day, silver_table

pytestmark = pytest.mark.usefixtures("one_shuffle_partition")

T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
WEB_SCHEMA = pa.schema([("ts", pa.timestamp("us", tz="UTC")), ("client", pa.string()), ("method", pa.string()),
                        ("path", pa.string()), ("status", pa.int32()), ("bytes", pa.int64()),
                        ("referrer", pa.string()), ("user_agent", pa.string()), ("customer_key", pa.int64()),
                        ("part_key", pa.int64()), ("is_bot", pa.bool_())])


def _at(day: int, hour: int, minute: int) -> datetime:
    return T0 + timedelta(days=day, hours=hour, minutes=minute)


def _event(ts: datetime | None, client: str, customer: int | None, part: int | None, bot: bool | None = False) -> dict:
    return {"ts": ts, "client": client, "method": "GET", "path": f"/p/{part}", "status": 200, "bytes": None,
            "referrer": "-", "user_agent": "ua", "customer_key": customer, "part_key": part, "is_bot": bot}


WEB_EVENTS = [
    _event(_at(0, 10, 0), "10.0.0.1", 1, 5), _event(_at(0, 10, 30), "10.0.0.1", None, 7),
    _event(_at(0, 11, 1), "10.0.0.1", 2, 5), _event(_at(0, 11, 10), "10.0.0.1", 2, 7),
    _event(_at(0, 23, 50), "10.0.0.2", 1, 9), _event(_at(1, 0, 10), "10.0.0.2", 3, 9),
    _event(_at(1, 1, 0), "10.0.0.2", 3, 2),
    *[_event(_at(0, 12, 0), "10.0.0.3", None, 3, None) for _ in range(2)],
    *[_event(_at(0, 9, m), "10.0.0.9", 4, 1, True) for m in range(3)],
    *[_event(_at(1, 9, m), "10.0.0.4", 150, p) for m, p in enumerate([20, 11, 12, 13, 14, 15, 16, 20])],
    *[_event(_at(2, 8, m), "10.0.0.9", None, 1, True) for m in range(2)],
    _event(None, "10.0.0.1", 1, 5),
]


def _with_metadata(table: pa.Table, day: str) -> pa.Table:
    table = table.append_column("_ingestion_date", pa.array([day] * table.num_rows, pa.string()))
    return table.append_column("_run_id", pa.array(["silver-run"] * table.num_rows, pa.string()))


@pytest.fixture(scope="module")
def silver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Silver tables from real TPC-H at SF 0.001 (lineitem and web_events split over two partitions)."""
    root = tmp_path_factory.mktemp("gold")
    tpch = root / "tpch"
    tpchgen = str(Path(sys.executable).parent / "tpchgen-cli")
    subprocess.run([tpchgen, "parquet", "-s", "0.001", "-o", str(tpch)], check=True)
    silver = root / "silver"
    for name in SILVER_BY_NAME:
        table = silver_table(tpch, name)
        if name == "lineitem":
            half = table.num_rows // 2
            later = _with_metadata(table.slice(half), "2024-01-02")
            write_arrow(later, str(silver / name), "ingestion_date=2024-01-02")
            table = table.slice(0, half)
        write_arrow(_with_metadata(table, "2024-01-01"), str(silver / name), "ingestion_date=2024-01-01")
    web = pa.Table.from_pylist(WEB_EVENTS, WEB_SCHEMA)
    write_arrow(_with_metadata(web.slice(0, 10), "2024-03-01"), str(silver / "web_events"), "ingestion_date=2024-03-01")
    write_arrow(_with_metadata(web.slice(10), "2024-03-02"), str(silver / "web_events"), "ingestion_date=2024-03-02")
    return silver


def _args(silver: Path, gold: Path, mart: str) -> dict[str, str]:
    return {"mart": mart, "ingestion_date": "2024-01-02", "silver_path": str(silver), "gold_path": str(gold),
            "run_id": "r1"}


ENGINES = ("duckdb", "spark")


def _args_on(engine: str, silver: Path, mart: str) -> dict[str, str]:
    return {**_args(silver, silver.parent / f"gold-{engine}", mart), "engine": engine}


@pytest.fixture(scope="module")
def built_by_engine(spark: SparkSession, silver: Path) -> dict[str, dict[str, GoldReport]]:
    """Every mart built once from the shared silver on each engine, into its own gold folder; each report survives
    JSON."""
    reports = {e: {m: run(spark, _args_on(e, silver, m)) for m in mart_names()} for e in ENGINES}
    assert all(GoldReport.from_json(r.to_json()) == r for marts in reports.values() for r in marts.values())
    return reports


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine a test's gold build ran on."""
    return request.param


@pytest.fixture(scope="module")
def built(built_by_engine: dict[str, dict[str, GoldReport]], engine: str) -> dict[str, GoldReport]:
    """Every mart built from the shared silver on `engine`."""
    return built_by_engine[engine]


def _duck(silver: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name in [*SILVER_BY_NAME, "web_events"]:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{silver}/{name}/ingestion_date=*/*.parquet')")
    return con


SESSIONS = """
WITH h AS (SELECT * FROM web_events WHERE ts IS NOT NULL AND is_bot IS NOT TRUE),
g AS (SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY client ORDER BY ts) <= INTERVAL 30 MINUTE
                      THEN 0 ELSE 1 END AS new FROM h),
s AS (SELECT *, sum(new) OVER (PARTITION BY client ORDER BY ts ROWS UNBOUNDED PRECEDING) AS sid FROM g),
sessions AS (SELECT *, min(ts) OVER (PARTITION BY client, sid) AS started FROM s)
"""

EXPECTED_SQL = {
    "daily_revenue": """
        SELECT o_orderdate, n_name, c_mktsegment, count(DISTINCT o_orderkey) AS orders, count(l_orderkey) AS line_items,
               coalesce(sum(l_extendedprice), 0) AS gross_revenue,
               coalesce(sum(l_extendedprice * (1 - l_discount)), 0) AS net_revenue
        FROM orders LEFT JOIN lineitem ON l_orderkey = o_orderkey LEFT JOIN customer ON c_custkey = o_custkey
        LEFT JOIN nation ON n_nationkey = c_nationkey GROUP BY ALL""",
    "pricing_summary": """
        SELECT date_trunc('month', l_shipdate)::DATE AS ship_month, l_returnflag, l_linestatus,
               sum(l_quantity) AS sum_qty,
               sum(l_extendedprice) AS sum_base_price, sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
               sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, avg(l_quantity) AS avg_qty,
               avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order
        FROM lineitem GROUP BY ALL""",
    "customer_lifetime_value": SESSIONS + """,
        web AS (SELECT customer_key, count(DISTINCT (client, sid)) AS web_sessions, count(*) AS page_views
                FROM sessions WHERE customer_key IS NOT NULL GROUP BY 1),
        lines AS (SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS net FROM lineitem GROUP BY 1),
        cust AS (SELECT o_custkey, count(*) AS orders, sum(net) AS net, min(o_orderdate) AS first_d,
                        max(o_orderdate) AS last_d
                 FROM orders LEFT JOIN lines ON l_orderkey = o_orderkey GROUP BY 1)
        SELECT c_custkey, c_name, c_mktsegment, coalesce(orders, 0) AS orders, coalesce(net, 0) AS net_revenue,
               first_d AS first_order_date, last_d AS last_order_date, coalesce(web_sessions, 0) AS web_sessions,
               coalesce(page_views, 0) AS page_views
        FROM customer LEFT JOIN cust ON o_custkey = c_custkey LEFT JOIN web ON customer_key = c_custkey""",
    "supplier_delivery_performance": """
        SELECT l_suppkey AS s_suppkey, year(l_shipdate) AS ship_year, any_value(s_name) AS s_name,
               count(*) AS line_items_shipped,
               count(*) FILTER (WHERE l_receiptdate > l_commitdate) AS late_receipts,
               (count(*) FILTER (WHERE l_receiptdate > l_commitdate)) / count(*) AS late_ratio
        FROM lineitem LEFT JOIN supplier ON s_suppkey = l_suppkey GROUP BY 1, 2""",
    "web_traffic_daily": SESSIONS + """,
        days AS (SELECT ts::DATE AS event_date, count(*) AS page_views,
                        avg(CASE WHEN is_bot THEN 1.0 ELSE 0.0 END) AS bot_share,
                        count(DISTINCT customer_key) FILTER (WHERE is_bot IS NOT TRUE) AS unique_customers
                 FROM web_events WHERE ts IS NOT NULL GROUP BY 1),
        starts AS (SELECT started::DATE AS event_date, count(DISTINCT (client, sid)) AS sessions
                   FROM sessions GROUP BY 1),
        views AS (SELECT ts::DATE AS event_date, part_key, count(*) AS n
                  FROM sessions WHERE part_key IS NOT NULL GROUP BY 1, 2),
        top AS (SELECT event_date, list(part_key ORDER BY n DESC, part_key) AS parts FROM views GROUP BY 1)
        SELECT event_date, page_views, bot_share, coalesce(sessions, 0) AS sessions, unique_customers,
               coalesce(parts[1:5], []::BIGINT[]) AS top_parts
        FROM days LEFT JOIN starts USING (event_date) LEFT JOIN top USING (event_date)""",
    "part_demand": """
        SELECT p_brand, p_type, date_trunc('month', l_shipdate)::DATE AS ship_month, sum(l_quantity) AS quantity,
               sum(l_extendedprice * (1 - l_discount)) AS revenue
        FROM lineitem LEFT JOIN part ON p_partkey = l_partkey GROUP BY ALL""",
}


def _sort_key(row: dict, grain: tuple[str, ...]) -> tuple:
    return tuple((row[g] is None, row[g]) for g in grain)


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, float) or isinstance(expected, float):
        if actual is None or expected is None:
            return False
        return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-6)
    if isinstance(expected, Decimal):
        return isinstance(actual, Decimal) and actual == expected
    return actual == expected


def _mart_rows(report: GoldReport) -> list[dict]:
    return pq.read_table(one_day(report).path).to_pylist()


@pytest.mark.parametrize("mart", mart_names())
def test_mart_equals_duckdb(built: dict[str, GoldReport], silver: Path, mart: str) -> None:
    report = built[mart]
    result = one_day(report)
    grain = MARTS_BY_NAME[mart].grain
    cursor = _duck(silver).execute(EXPECTED_SQL[mart])
    columns = [d[0] for d in cursor.description]
    expected = sorted((dict(zip(columns, r)) for r in cursor.fetchall()), key=lambda r: _sort_key(r, grain))
    actual = _mart_rows(report)
    assert [c for c, _ in result.schema] == columns and columns[: len(grain)] == list(grain)
    assert actual == sorted(actual, key=lambda r: _sort_key(r, grain)), "mart file is not in grain order"
    assert len(actual) == len(expected) == result.rows > 0
    for got, want in zip(actual, expected):
        bad = {c: (got[c], want[c]) for c in columns if not _same(got[c], want[c])}
        assert not bad, f"{mart} row {[got[g] for g in grain]} differs: {bad}"
    assert report.mart == mart and result.files == 1 and result.bytes > 0 and mart in MART_DESCRIPTIONS


def test_totals_reconcile_with_lineitem(built: dict[str, GoldReport], silver: Path) -> None:
    net, gross, qty, lines = _duck(silver).execute(
        "SELECT sum(l_extendedprice * (1 - l_discount)), sum(l_extendedprice), sum(l_quantity), count(*) FROM lineitem"
    ).fetchone()
    totals: dict[str, Any] = {m: one_day(r).totals for m, r in built.items()}
    net_totals = [("daily_revenue", "net_revenue"), ("pricing_summary", "sum_disc_price"), ("part_demand", "revenue"),
                  ("customer_lifetime_value", "net_revenue")]
    assert {Decimal(totals[m][k]) for m, k in net_totals} == {net}
    assert Decimal(totals["daily_revenue"]["gross_revenue"]) == gross
    assert Decimal(totals["part_demand"]["quantity"]) == qty
    assert totals["pricing_summary"]["count_order"] == lines
    assert totals["supplier_delivery_performance"]["line_items_shipped"] == lines
    assert totals["web_traffic_daily"]["page_views"] == len(WEB_EVENTS) - 1


def test_web_marts_follow_the_session_rule(built: dict[str, GoldReport]) -> None:
    days = {r["event_date"].isoformat(): r for r in _mart_rows(built["web_traffic_daily"])}
    assert {d: (r["page_views"], r["sessions"], r["unique_customers"], r["top_parts"]) for d, r in days.items()} == {
        "2024-03-01": (10, 4, 2, [3, 5, 7, 9]),
        "2024-03-02": (10, 2, 2, [20, 2, 9, 11, 12]),
        "2024-03-03": (2, 0, 0, []),
    }
    assert [days[d]["bot_share"] for d in sorted(days)] == pytest.approx([0.3, 0.0, 1.0])
    clv = _mart_rows(built["customer_lifetime_value"])
    customers = {r["c_custkey"]: (r["web_sessions"], r["page_views"]) for r in clv}
    assert [customers[k] for k in (1, 2, 3, 4, 150, 5)] == [(2, 2), (1, 2), (2, 2), (0, 0), (1, 8), (0, 0)]


def test_empty_silver_gives_empty_marts_with_schema(
    spark: SparkSession, engine: str, built: dict[str, GoldReport], tmp_path: Path
) -> None:
    for mart in mart_names():
        result = one_day(run(spark, {**_args(tmp_path / "silver", tmp_path / "gold", mart), "engine": engine}))
        assert (result.rows, result.schema) == (0, one_day(built[mart]).schema)
        assert pq.read_table(result.path).num_rows == 0
        assert pq.read_schema(next(Path(result.path).glob("*.parquet"))).names == [c for c, _ in result.schema]
        assert all(v in (0, 0.0, "0") for v in result.totals.values())


def test_rerun_leaves_identical_output(spark: SparkSession, engine: str, built: dict[str, GoldReport],
                                       silver: Path) -> None:
    for mart in ("customer_lifetime_value", "web_traffic_daily"):
        before = _mart_rows(built[mart])
        again = run(spark, _args_on(engine, silver, mart))
        assert again == built[mart]
        assert _mart_rows(again) == before
        assert len(list(Path(one_day(again).path).glob("*.parquet"))) == 1


def test_bad_arguments_are_rejected(spark: SparkSession, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown engine 'polars'"):
        run(spark, {**_args(tmp_path, tmp_path, "part_demand"), "engine": "polars"})
    with pytest.raises(ValueError, match="does not build mart"):
        run(spark, _args(tmp_path, tmp_path, "no_such_mart"))
    with pytest.raises(ValueError, match="--gold_path"):
        run(spark, {k: v for k, v in _args(tmp_path, tmp_path, "part_demand").items() if k != "gold_path"})


def _tables(report: GoldReport, gold: Path) -> dict[str, Path]:
    folders = {report.mart: Path(one_day(report).path)}
    partials = gold / "_partials" / report.mart
    folders.update({f"{report.mart}/{p.name}": p for p in sorted(partials.glob("ingestion_date=*"))})
    return folders


def _report(report: GoldReport) -> dict[str, Any]:
    """The job's report without what names the engine or its folder; float totals rounded (summation order)."""
    shared = {k: v for k, v in plain(report).items() if k != "engine"}
    for build in shared["days"].values():
        build["totals"] = {k: round(v, 9) if isinstance(v, float) else v for k, v in build["totals"].items()}
        del build["path"], build["bytes"]
    return shared


def test_engines_write_identical_marts_and_partials(built_by_engine: dict[str, dict[str, GoldReport]],
                                                    silver: Path) -> None:
    con = duckdb.connect()
    for mart in mart_names():
        duck, spark_ = built_by_engine["duckdb"][mart], built_by_engine["spark"][mart]
        assert (duck.engine, spark_.engine) == ENGINES
        assert _report(duck) == _report(spark_), mart
        tables = [_tables(r, silver.parent / f"gold-{e}") for e, r in (("duckdb", duck), ("spark", spark_))]
        assert tables[0].keys() == tables[1].keys() and len(tables[0]) >= 1
        for name in tables[0]:
            files = [sorted(str(f) for f in t[name].glob("*.parquet")) for t in tables]
            schemas = [pq.read_schema(f[0]).remove_metadata() for f in files]
            assert [s.types for s in schemas] == [schemas[0].types] * 2 and schemas[0].names == schemas[1].names, name
            a, b = (f"read_parquet({f})" for f in files)
            for left, right in ((a, b), (b, a)):
                extra = con.sql(f"SELECT count(*) FROM (SELECT * FROM {left} EXCEPT ALL SELECT * FROM {right})")
                assert extra.fetchall() == [(0,)], f"{name}: rows of one engine missing from the other"
            assert con.sql(f"SELECT count(*) FROM {a}").fetchall() == con.sql(f"SELECT count(*) FROM {b}").fetchall()
