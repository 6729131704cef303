"""Small builders the bronze job tests share: landing files, job arguments, partitions read back."""

from __future__ import annotations

from pathlib import Path

from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import DataFrame, SparkSession

from glue_scripts.common.session import LazySpark
from glue_scripts.common.specs import SILVER_BY_NAME

DAY = "2024-01-02"


def land(root: Path, source: str, entity: str, name: str, data: bytes | str, day: str = DAY) -> Path:
    """Write one landing file `<root>/<source>/<entity>/ingestion_date=<day>/<name>`."""
    folder = root / source / entity / f"ingestion_date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def job_args(tmp: Path, table: str, day: str = DAY, run_id: str = "run-1", **extra: str) -> dict[str, str]:
    """The common bronze arguments rooted at `tmp`, plus any job-specific ones."""
    return {
        "table": table,
        "ingestion_date": day,
        "landing_path": str(tmp / "landing"),
        "bronze_path": str(tmp / "bronze"),
        "quarantine_path": str(tmp / "quarantine"),
        "run_id": run_id,
        **extra,
    }


def read_partition(spark: SparkSession, tmp: Path, table: str, day: str = DAY) -> DataFrame:
    """The written bronze partition as Spark sees it."""
    return spark.read.parquet(str(tmp / "bronze" / table / f"ingestion_date={day}"))


def partition_table(tmp: Path, table: str, day: str = DAY) -> pa.Table:
    """The written bronze partition as pyarrow reads it (no Spark)."""
    return pq.read_table(tmp / "bronze" / table / f"ingestion_date={day}")


def partition_rows(tmp: Path, table: str, day: str = DAY) -> list[dict[str, Any]]:
    """The written bronze partition's rows as dicts (no Spark)."""
    return partition_table(tmp, table, day).to_pylist()


def one_day(report: Any) -> Any:
    """The one day's report of a one-day job run (a range of one)."""
    [day] = report.days.values()
    return day


def no_spark() -> LazySpark:
    """The `spark` a job gets, failing the test if the job ever touches it (no JVM for jobs that need none)."""
    return LazySpark(lambda: pytest.fail("the job started a Spark session"))


ARROW_TYPES = {"bigint": pa.int64(), "int": pa.int32(), "string": pa.string(), "date": pa.date32(),
               "decimal(15,2)": pa.decimal128(15, 2)}


def silver_table(tpch: Path, name: str) -> pa.Table:
    """A tpchgen-cli Parquet table with its silver spec's columns and Arrow types."""
    spec = SILVER_BY_NAME[name]
    table = pq.read_table(tpch / f"{name}.parquet").select(list(spec.column_names))
    return table.cast(pa.schema([(c.name, ARROW_TYPES[c.type]) for c in spec.columns]))
