"""The one place the engines' SQL differs: each named function means the same on DuckDB and Spark."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from pyspark.sql import SparkSession

from glue_scripts.common.writer import write_arrow
from glue_scripts.engine import Engine, make_engine
from glue_scripts.engine.dialect import render

pytestmark = pytest.mark.usefixtures("one_shuffle_partition")


def _engines(spark: SparkSession) -> list[Engine]:
    return [make_engine("duckdb"), make_engine("spark", spark)]


def _register(engine: Engine, tmp_path: Path, rows: list[dict], schema: pa.Schema) -> str:
    folder = tmp_path / engine.name
    path = write_arrow(pa.Table.from_pylist(rows, schema), str(folder), "ingestion_date=2024-01-01")
    columns = tuple((f.name, "decimal(15,2)" if pa.types.is_decimal(f.type) else "int") for f in schema)
    return engine.register("t", str(folder), [f"{path}/part-00000.parquet"], columns)


def test_decimal_average_equals_spark_avg_on_both_engines(spark: SparkSession, tmp_path: Path) -> None:
    rng = random.Random(9)
    rows = [{"g": rng.randrange(40), "x": None if rng.random() < 0.1 else Decimal(rng.randrange(-10**7, 10**7)).scaleb(-2)}
            for _ in range(4000)]
    rows += [{"g": 40, "x": None}] * 3 + [{"g": 41, "x": Decimal("0.01")}] + [{"g": 41, "x": Decimal(0)}] * 31
    rows += [{"g": 42, "x": Decimal("-0.01")}] + [{"g": 42, "x": Decimal(0)}] * 31
    schema = pa.schema([("g", pa.int32()), ("x", pa.decimal128(15, 2))])
    spark.createDataFrame([(r["g"], r["x"]) for r in rows], "g int, x decimal(15,2)").createOrReplaceTempView("avg_in")
    want = {r["g"]: r["a"] for r in spark.sql("SELECT g, avg(x) AS a FROM avg_in GROUP BY g").collect()}
    assert want[40] is None and want[41] == Decimal("0.000313") and want[42] == Decimal("-0.000313")
    for engine in _engines(spark):
        table = _register(engine, tmp_path, rows, schema)
        sums = f"(SELECT g, sum(x) AS s, count(x) AS n FROM {table} AS t GROUP BY g)"
        got = engine.rows(f"SELECT g, lakehouse_decimal_avg(s, n, 15, 2) AS a FROM {sums} AS p")
        assert {r["g"]: r["a"] for r in got} == want, engine.name
        assert {str(r["a"]) for r in got if r["g"] == 41} == {"0.000313"}
        engine.close()


def test_ordered_list_keeps_order_and_skips_nulls_on_both_engines(spark: SparkSession, tmp_path: Path) -> None:
    rows = [{"g": 1, "v": 30, "o": 3}, {"g": 1, "v": 10, "o": 1}, {"g": 1, "v": None, "o": 2}, {"g": 1, "v": 20, "o": 0},
            {"g": 2, "v": 5, "o": 9}]
    schema = pa.schema([("g", pa.int32()), ("v", pa.int32()), ("o", pa.int32())])
    for engine in _engines(spark):
        table = _register(engine, tmp_path, rows, schema)
        got = engine.rows(f"SELECT g, lakehouse_ordered_list(v, o) AS l FROM {table} AS t GROUP BY g ORDER BY g")
        assert [(r["g"], list(r["l"])) for r in got] == [(1, [20, 10, 30]), (2, [5])], engine.name
        engine.close()


def test_file_names_are_data_and_unknown_engines_are_refused(spark: SparkSession, tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    path = write_arrow(pa.table({"g": pa.array([7], pa.int32())}), str(folder), "ingestion_date=2024-01-01",
                       file_name="it's [a] \\ file.parquet")
    for engine in _engines(spark):
        table = engine.register("odd", str(folder), [f"{path}/it's [a] \\ file.parquet"], (("g", "int"),))
        assert engine.rows(f"SELECT g, ingestion_date FROM {table} AS t") == [{"g": 7, "ingestion_date": "2024-01-01"}]
        engine.close()
    with pytest.raises(ValueError, match="unknown engine 'polars'"):
        make_engine("polars")
    assert "ARRAY_AGG" not in render("SELECT lakehouse_ordered_list(v, o) FROM t", "spark").upper()
