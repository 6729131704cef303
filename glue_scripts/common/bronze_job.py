"""What every bronze job shares: its arguments, the one partition write, and the result it reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame

from glue_scripts.common import spark_io
from glue_scripts.common.entry import require
from glue_scripts.common.fs import join
from glue_scripts.common.specs import BRONZE_BY_NAME, BronzeSpec
from glue_scripts.transforms.bronze import schema_of, window


@dataclass(frozen=True)
class BronzeArgs:
    """The arguments every bronze job takes: which table and partition, where it lands, which run."""

    spec: BronzeSpec
    ingestion_date: str
    bronze_path: str
    quarantine_path: str
    run_id: str

    @property
    def partition(self) -> str:
        """The partition folder name, `ingestion_date=D`."""
        return f"ingestion_date={self.ingestion_date}"

    @property
    def window(self) -> tuple[str, str]:
        """The partition's watermark window ('D 00:00:00', 'D+1 00:00:00')."""
        return window(self.ingestion_date)


def bronze_args(args: dict[str, str], job: str) -> BronzeArgs:
    """Validate the common arguments; the table must be one this job ingests."""
    table, day, bronze, quarantine, run_id = require(
        args, "table", "ingestion_date", "bronze_path", "quarantine_path", "run_id"
    )
    spec = BRONZE_BY_NAME.get(table)
    if spec is None or spec.job != job:
        known = sorted(s.name for s in BRONZE_BY_NAME.values() if s.job == job)
        raise ValueError(f"{job} does not ingest table {table!r}; expected one of {known}")
    window(day)
    return BronzeArgs(spec, day, bronze, quarantine, run_id)


def write_bronze(
    df: DataFrame, job: BronzeArgs, *, source_rows: int, source_ref: str, corrupt_files: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """Replace the partition with `df` and return the job's JSON-serializable result."""
    stats = spark_io.write_partition(df, join(job.bronze_path, job.spec.name), job.partition)
    return {
        **stats,
        "table": job.spec.name,
        "ingestion_date": job.ingestion_date,
        "source_rows": int(source_rows),
        "source_ref": source_ref,
        "corrupt_files": corrupt_files or [],
        "schema": schema_of(df),
    }
