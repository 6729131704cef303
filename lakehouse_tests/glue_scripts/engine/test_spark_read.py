"""Spark reads by file list: a schema kept for a footer reads exactly what Spark's own inference reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from pyspark.sql import DataFrame, SparkSession

from glue_scripts.common.writer import write_arrow
from glue_scripts.engine import spark_read
from glue_scripts.engine.spark_read import partition_columns, read_parquet

pytestmark = pytest.mark.usefixtures("one_shuffle_partition")

SCHEMA = pa.schema([("k", pa.int64()), ("price", pa.decimal128(15, 2)), ("day", pa.date32()),
                    ("at", pa.timestamp("us", tz="UTC")), ("rules", pa.list_(pa.string())), ("note", pa.string())])
ROWS = [{"k": 1, "price": Decimal("1.05"), "day": dt.date(1000, 1, 1), "at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
         "rules": ["a", None], "note": "x"},
        {"k": 2, "price": None, "day": None, "at": None, "rules": [], "note": None}]


def _files(root: Path, table: pa.Table, days: tuple[str, ...]) -> list[str]:
    return [write_arrow(table, str(root), f"ingestion_date={d}") + "/part-00000.parquet" for d in days]


def _rows(frame: DataFrame) -> list[tuple]:
    return sorted(tuple(r) for r in frame.collect())


def test_a_kept_schema_reads_what_inference_reads(spark: SparkSession, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_read, "_INFERRED", {})
    files = _files(tmp_path / "t", pa.Table.from_pylist(ROWS, SCHEMA), ("2024-01-01", "2024-01-02"))
    inferred = spark.read.option("basePath", str(tmp_path / "t")).parquet(*files)
    first = read_parquet(spark, str(tmp_path / "t"), files)
    assert len(spark_read._INFERRED) == 1
    kept = read_parquet(spark, str(tmp_path / "t"), files[1:])
    assert first.schema == inferred.schema == kept.schema
    assert [f.name for f in kept.schema.fields][-1] == "ingestion_date"
    assert _rows(first) == _rows(inferred)
    assert _rows(kept) == [r for r in _rows(inferred) if str(r[-1]) == "2024-01-02"]


def test_files_of_different_footers_are_inferred_by_spark(spark: SparkSession, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_read, "_INFERRED", {})
    wide = pa.Table.from_pylist(ROWS, SCHEMA)
    files = [*_files(tmp_path / "t", wide, ("2024-01-01",)), *_files(tmp_path / "t", wide.drop(["note"]), ("2024-01-02",))]
    frame = read_parquet(spark, str(tmp_path / "t"), files)
    assert spark_read._INFERRED == {}
    assert frame.schema == spark.read.option("basePath", str(tmp_path / "t")).parquet(*files).schema


def test_a_column_named_like_a_partition_folder_is_never_kept(spark: SparkSession, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_read, "_INFERRED", {})
    files = _files(tmp_path / "t", pa.table({"ingestion_date": ["x"], "v": [1]}), ("2024-01-01",))
    read_parquet(spark, str(tmp_path / "t"), files)
    assert spark_read._INFERRED == {}


def test_partition_columns_are_the_key_folders_under_the_base() -> None:
    assert partition_columns("s3://b/t/", "s3://b/t/ingestion_date=2024-01-01/x.parquet") == ["ingestion_date"]
    assert partition_columns("/w/gold/mart", "/w/gold/mart/part-0.parquet") == []
    assert partition_columns("/w/a", "/w/ab/x=1/f.parquet") is None
