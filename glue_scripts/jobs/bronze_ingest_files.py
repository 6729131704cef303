"""Glue job bronze_ingest_files: one landing partition of CSV or JSON Lines drops → one bronze partition.

The files are parsed one by one in Python (glue_scripts.common.records), so names are never patterns, one
bad file never stops the others, and reading behaves the same whatever engine runs silver.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from glue_scripts.common.bronze_job import bronze_args, bronze_report
from glue_scripts.common.entry import main, require
from glue_scripts.common.landing_job import ingest, record_limit
from glue_scripts.common.reports import BronzeReport

JOB = "bronze_ingest_files"


def run(spark: SparkSession, args: dict[str, str]) -> BronzeReport:
    """Ingest `--table` for `--ingestion_date` (through `--ingestion_date_end`) from `--landing_path` into
    `--bronze_path`; `--max_record_bytes` bounds one record (default 1 MiB)."""
    bronze_args(args, JOB)
    (landing_path,) = require(args, "landing_path")
    limit = record_limit(args)
    return bronze_report(args, JOB, lambda job: ingest(job, landing_path, limit))


if __name__ == "__main__":
    main(run)
