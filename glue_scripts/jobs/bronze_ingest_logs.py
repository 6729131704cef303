"""Glue job bronze_ingest_logs: one day of gzipped web access logs → one bronze row per log line.

Each file is inflated as a stream with bounded reads (glue_scripts.common.records), so a line of any size
costs at most `--max_record_bytes` of memory and is quarantined, and a truncated file is quarantined whole.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from glue_scripts.common.bronze_job import bronze_args, bronze_report
from glue_scripts.common.entry import main, require
from glue_scripts.common.landing_job import ingest, record_limit
from glue_scripts.common.reports import BronzeReport

JOB = "bronze_ingest_logs"


def run(spark: SparkSession, args: dict[str, str]) -> BronzeReport:
    """Ingest `logs__web_access` for `--ingestion_date` (through `--ingestion_date_end`) from `--landing_path`
    into `--bronze_path`."""
    bronze_args(args, JOB)
    (landing_path,) = require(args, "landing_path")
    limit = record_limit(args)
    return bronze_report(args, JOB, lambda job: ingest(job, landing_path, limit))


if __name__ == "__main__":
    main(run)
