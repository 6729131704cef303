"""`lakehouse query` on a tiny catalogued root: catalog statements, output formats, errors, the read-only engine.

The root is written directly (pyarrow + LocalCatalog.refresh), not by the pipeline: silver.orders partitioned by
day with an array and a map column, bronze.orders of the same name, and an unpartitioned silver.nation.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from rich.console import Console
from rich.pager import Pager

from lakehouse.query_cli import print_table
from lakehouse.resources.athena_sql import QueryError, ReadQuery, parse
from lakehouse.resources.catalog import LocalCatalog
from lakehouse.resources.local_athena import LocalAthena, connect

DAYS = ("2024-01-01", "2024-01-02")
TAGS = pa.list_(pa.string())
ATTRS = pa.map_(pa.string(), pa.int64())


def _orders(day: str) -> pa.Table:
    if day == DAYS[0]:
        return pa.table({"o_orderkey": [1, 2], "o_tags": pa.array([["a", "b"], []], TAGS),
                         "o_attrs": pa.array([[("k", 1)], None], ATTRS)})
    return pa.table({"o_orderkey": [3], "o_tags": pa.array([['say "hi", ok']], TAGS),
                     "o_attrs": pa.array([[("x", 2), ("y", 3)]], ATTRS)})


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalogued root with silver.orders (2 days), bronze.orders and silver.nation."""
    base = tmp_path_factory.mktemp("query")
    catalog = LocalCatalog(path=str(base / "catalog"))
    for layer in ("silver", "bronze"):
        for day in DAYS:
            folder = base / layer / "orders" / f"ingestion_date={day}"
            folder.mkdir(parents=True)
            pq.write_table(_orders(day), folder / "part-0.parquet")
        assert catalog.refresh(None, layer, "orders", str(base / layer / "orders")) is not None
    (base / "silver" / "nation").mkdir(parents=True)
    pq.write_table(pa.table({"n_nationkey": [0, 1], "n_name": ["ALGERIA", "ARGENTINA"]}),
                   base / "silver" / "nation" / "part-0.parquet")
    assert catalog.refresh(None, "silver", "nation", str(base / "silver" / "nation")) is not None
    return base


def _query(root: Path, sql: str, fmt: str = "csv"):  # type: ignore[no-untyped-def]
    from lakehouse.cli import main

    return CliRunner().invoke(main, ["query", "--root", str(root), "--format", fmt, sql])


def _csv(root: Path, sql: str) -> list[list[str]]:
    result = _query(root, sql)
    assert result.exit_code == 0, result.output
    return list(csv.reader(io.StringIO(result.output)))


def _one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    """The error a failed command printed: one `Error:` line, exit code 2, no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output and "Binder Error" not in result.output
    return lines[0]


def test_show_tables_lists_every_catalogued_table(root: Path) -> None:
    assert _csv(root, "SHOW TABLES") == [["tab_name"], ["bronze.orders"], ["silver.nation"], ["silver.orders"]]
    assert _csv(root, "SHOW TABLES IN silver") == [["tab_name"], ["nation"], ["orders"]]
    assert _csv(root, "show tables from SILVER 'ord*|x*';") == [["tab_name"], ["orders"]]
    assert _csv(root, "SHOW DATABASES") == [["database_name"], ["bronze"], ["silver"]]


def test_show_columns_and_describe_read_the_catalog(root: Path) -> None:
    columns = [["field"], ["o_orderkey"], ["o_tags"], ["o_attrs"], ["ingestion_date"]]
    assert _csv(root, "SHOW COLUMNS FROM silver.orders") == columns
    assert _csv(root, "SHOW COLUMNS IN orders FROM silver") == columns
    assert _csv(root, 'DESCRIBE "silver"."orders"') == [
        ["col_name", "data_type", "comment"], ["o_orderkey", "bigint", ""], ["o_tags", "array<string>", ""],
        ["o_attrs", "map<string,bigint>", ""], ["ingestion_date", "string", "partition key"]]
    assert _csv(root, "DESCRIBE nation") == [["col_name", "data_type", "comment"], ["n_nationkey", "bigint", ""],
                                             ["n_name", "string", ""]]
    assert _csv(root, "SHOW PARTITIONS silver.orders") == [["partition"], *([f"ingestion_date={d}"] for d in DAYS)]


def test_an_unqualified_name_resolves_when_unique_and_is_refused_when_not(root: Path) -> None:
    assert _csv(root, "SELECT n_name FROM nation ORDER BY n_nationkey") == [["n_name"], ["ALGERIA"], ["ARGENTINA"]]
    line = _one_line_error(_query(root, "DESCRIBE orders"))
    assert "bronze.orders" in line and "silver.orders" in line


def test_csv_renders_arrays_and_maps_as_json(root: Path) -> None:
    rows = _csv(root, "SELECT o_orderkey, o_tags, o_attrs, ingestion_date FROM silver.orders ORDER BY o_orderkey")
    assert rows[0] == ["o_orderkey", "o_tags", "o_attrs", "ingestion_date"]
    parsed = [(int(k), json.loads(tags), json.loads(attrs) if attrs else None, day) for k, tags, attrs, day in rows[1:]]
    assert parsed == [(1, ["a", "b"], {"k": 1}, DAYS[0]), (2, [], None, DAYS[0]),
                      (3, ['say "hi", ok'], {"x": 2, "y": 3}, DAYS[1])]


def test_json_keeps_maps_as_objects(root: Path) -> None:
    result = _query(root, "SELECT o_attrs FROM silver.orders WHERE o_orderkey = 3", fmt="json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"o_attrs": {"x": 2, "y": 3}}]


@pytest.mark.parametrize("sql, expected", [
    ("SELECT o_orderkye FROM silver.orders", ["no column o_orderkye in silver.orders", "did you mean o_orderkey?"]),
    ("SELECT * FROM silver.ordrs", ["no table silver.ordrs", "did you mean silver.orders?",
                                    "silver holds: nation, orders"]),
    ("SELECT * FROM silvr.orders", ["no database silvr", "did you mean silver?", "bronze, silver"]),
    ("SELECT * FROM natoin", ["no table natoin", "did you mean silver.nation?"]),
    ("SELECT nope(1)", ["no function nope"]),
    ("SELEC 1", ["cannot parse the SQL"]),
    ("SELECT 1; SELECT 2", ["expected one SQL statement, got 2"]),
])
def test_errors_name_what_is_wrong_and_what_exists(root: Path, sql: str, expected: list[str]) -> None:
    line = _one_line_error(_query(root, sql))
    for part in expected:
        assert part in line, line


def test_an_empty_lakehouse_says_what_to_run_first(tmp_path: Path) -> None:
    first = "no tables yet: run `lakehouse run` first"
    assert first in _one_line_error(_query(tmp_path, "SELECT * FROM silver.orders"))
    assert first in _one_line_error(_query(tmp_path, "SHOW TABLES IN silver"))
    missing = tmp_path / "nowhere"
    assert f"no lakehouse at {missing}: run `lakehouse run` first" in _one_line_error(_query(missing, "SELECT 1"))


@pytest.mark.parametrize("sql, refused", [
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv()"),
    ("SELECT count(*) FROM read_parquet('/tmp/*.parquet')", "read_parquet()"),
    ("SELECT * FROM read_json_auto('/etc/x.json')", "read_json_auto()"),
    ("SELECT * FROM glob('/etc/*')", "glob()"),
    ("SELECT (SELECT count(*) FROM read_text('/etc/hostname'))", "read_text()"),
    ("SELECT * FROM query('SELECT 1')", "query()"),
    ("COPY (SELECT 1) TO '/tmp/x.csv'", "COPY"),
    ("ATTACH '/tmp/x.db' AS x", "ATTACH"),
    ("INSTALL httpfs", "INSTALL"),
    ("LOAD httpfs", "LOAD"),
    ("EXPORT DATABASE '/tmp/x'", "EXPORT"),
    ("PRAGMA enable_profiling", "PRAGMA"),
    ("SET enable_external_access = true", "SET"),
])
def test_file_access_and_engine_changes_are_refused_as_athena_would(sql: str, refused: str) -> None:
    with pytest.raises(QueryError, match="Athena does not allow") as error:
        parse(sql)
    assert str(error.value).startswith(f"{refused} is refused")


@pytest.mark.parametrize("sql", ["DROP TABLE silver.orders", "INSERT INTO silver.nation VALUES (2, 'BRAZIL')",
                                 "CREATE TABLE x AS SELECT 1", "DELETE FROM silver.nation", "EXPLAIN SELECT 1",
                                 "SELECT * FROM TABLE(sequence(1, 3))"])
def test_writes_and_other_statements_are_refused(sql: str) -> None:
    with pytest.raises(QueryError, match="read-only"):
        parse(sql)


@pytest.mark.parametrize("sql", ["SELECT 1", "WITH o AS (SELECT 1 AS k) SELECT * FROM o", "VALUES (1), (2)",
                                 "SELECT 1 UNION ALL SELECT 2", "SELECT x FROM UNNEST(ARRAY[1, 2]) AS t(x)",
                                 "SELECT * FROM awsdatacatalog.silver.orders"])
def test_read_only_queries_parse(sql: str) -> None:
    assert isinstance(parse(sql), ReadQuery)


def test_the_engine_itself_refuses_files_outside_the_catalogued_tables(root: Path, tmp_path: Path) -> None:
    entries = LocalCatalog(path=str(root / "catalog")).tables("silver")
    con = connect(entries)
    try:
        assert con.execute("SELECT count(*) FROM silver.orders").fetchone() == (3,)
        for sql in ("SELECT * FROM read_csv('/etc/passwd')", f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'",
                    f"ATTACH '{tmp_path / 'x.db'}' AS x"):
            with pytest.raises(duckdb.PermissionException):
                con.execute(sql)
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            con.execute("SET enable_external_access = true")
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)
        views = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        assert sorted(r[0] for r in views) == ["nation", "orders"]
    finally:
        con.close()
    assert list(tmp_path.iterdir()) == []


def test_an_uncatalogued_partition_stays_invisible(root: Path, tmp_path: Path) -> None:
    """Like Athena, the engine reads the partitions the catalog lists, not whatever lies in the folder."""
    entries = LocalCatalog(path=str(root / "catalog")).tables("silver")
    orders = next(e for e in entries if e.name == "orders")
    shown = dataclasses.replace(orders, partitions=orders.partitions[:1])
    engine = LocalAthena(lambda: [shown])
    assert engine.query("SELECT count(*) AS n FROM silver.orders").to_pylist() == [{"n": 2}]


class _Recorder(Pager):
    """A pager that keeps what it was given."""

    def __init__(self) -> None:
        self.pages: list[str] = []

    def show(self, content: str) -> None:
        self.pages.append(content)


def _rendered(table: pa.Table, width: int, height: int = 50, pager: Pager | None = None) -> str:
    out = io.StringIO()
    print_table(table, Console(file=out, width=width, height=height, force_terminal=pager is not None), pager)
    return out.getvalue()


def test_a_wide_table_folds_its_values_and_too_many_columns_become_blocks() -> None:
    long = "x" * 100
    folded = _rendered(pa.table({"k": [1], "v": [long]}), width=40)
    assert all(len(line) <= 40 for line in folded.splitlines())
    assert long in "".join(line.strip("│ ") for line in folded.splitlines())
    wide = pa.table({f"column_{i}": [i] for i in range(8)})
    blocks = _rendered(wide, width=60)
    assert "row 1" in blocks and all(f"column_{i}  {i}" in blocks for i in range(8))
    narrow = pa.table({f"c{i}": [i] for i in range(8)})
    assert "row 1" not in _rendered(narrow, width=60) and "│ 7  │" in _rendered(narrow, width=60)


def test_a_table_taller_than_the_terminal_goes_through_the_pager() -> None:
    pager = _Recorder()
    tall = pa.table({"n": list(range(30))})
    assert _rendered(tall, width=40, height=10, pager=pager) == ""
    assert len(pager.pages) == 1 and "│ 29 │" in pager.pages[0]
    short = _Recorder()
    assert "│ 1 │" in _rendered(pa.table({"n": [1]}), width=40, height=10, pager=short) and short.pages == []


def test_the_command_loads_no_dagster_and_prints_no_warnings(root: Path) -> None:
    script = ("import sys; from lakehouse.cli import main; from click.testing import CliRunner; "
              f"r = CliRunner().invoke(main, ['query', '--root', {str(root)!r}, '--format', 'csv', "
              "'SELECT 1 AS one']); "
              "print(r.output, end=''); "
              "print(sorted({m.split('.')[0] for m in sys.modules} & {'dagster', 'pyspark', 'pandas', 'fakesnow'}))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == ["one", "1", "[]"]
    entry = subprocess.run([str(Path(sys.executable).with_name("lakehouse")), "query", "--root", str(root),
                            "SELECT n_name FROM silver.nation"], capture_output=True, text=True, timeout=120)
    assert entry.returncode == 0, entry.stderr
    assert "ARGENTINA" in entry.stdout and entry.stderr.strip() == "2 rows"


def test_run_summary_counts_rows_of_every_catalogued_table(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lakehouse.summary import table_rows

    monkeypatch.setenv("LAKEHOUSE_ROOT", str(root))
    monkeypatch.delenv("LAKEHOUSE_ENV", raising=False)
    assert table_rows() == {"bronze.orders": 3, "silver.nation": 2, "silver.orders": 3}
