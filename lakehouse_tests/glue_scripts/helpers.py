"""Small builders the bronze job tests share: landing files and job arguments."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession

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


ARROW_TYPES = {"bigint": pa.int64(), "int": pa.int32(), "string": pa.string(), "date": pa.date32(),
               "decimal(15,2)": pa.decimal128(15, 2)}


def silver_table(tpch: Path, name: str) -> pa.Table:
    """A tpchgen-cli Parquet table with its silver spec's columns and Arrow types."""
    spec = SILVER_BY_NAME[name]
    table = pq.read_table(tpch / f"{name}.parquet").select(list(spec.column_names))
    return table.cast(pa.schema([(c.name, ARROW_TYPES[c.type]) for c in spec.columns]))
