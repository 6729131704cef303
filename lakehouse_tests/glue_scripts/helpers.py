"""Small builders the bronze job tests share: landing files and job arguments."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

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
