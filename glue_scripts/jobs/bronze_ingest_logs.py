"""Glue job bronze_ingest_logs: one day of gzipped web access logs → one bronze row per log line."""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from glue_scripts.common.bronze_job import BronzeArgs, bronze_args, landing_ref, write_bronze
from glue_scripts.common.days import over_days
from glue_scripts.common.entry import main, require
from glue_scripts.common.fs import join
from glue_scripts.common.landing import list_files, vet_files
from glue_scripts.transforms.bronze import parse_log_lines

JOB = "bronze_ingest_logs"
SOURCE_FILE = "_source_file"


def ingest(spark: SparkSession, job: BronzeArgs, landing_path: str) -> dict[str, Any]:
    """Vet every .log.gz file, parse the readable ones line by line, write the partition."""
    spec = job.spec
    folder = join(landing_path, spec.source, spec.entity, job.partition)
    files, corrupt = vet_files(
        list_files(folder, (".log.gz",)), True, job.quarantine_path, spec.name, job.partition, job.run_id
    )
    if files:
        lines = spark.read.text([f.uri for f in files]).withColumn(SOURCE_FILE, F.input_file_name())
    else:
        schema = T.StructType([T.StructField("value", T.StringType()), T.StructField(SOURCE_FILE, T.StringType())])
        lines = spark.createDataFrame([], schema)
    parsed = parse_log_lines(lines).cache()
    counts = parsed.agg(F.count(F.lit(1)).alias("n"), F.sum(F.col("_parse_error").cast("int")).alias("bad")).first()
    bronze = job.stamp(parsed, F.col(SOURCE_FILE))
    try:
        result = write_bronze(bronze, job, source_rows=counts["n"], source_ref=landing_ref(files, folder, corrupt),
                              corrupt_files=corrupt)
    finally:
        parsed.unpersist()
    return {**result, "parse_failures": int(counts["bad"] or 0)}


def run(spark: SparkSession, args: dict[str, str]) -> dict[str, Any]:
    """Ingest `logs__web_access` for `--ingestion_date` (through `--ingestion_date_end`) from `--landing_path`
    into `--bronze_path`."""
    bronze_args(args, JOB)
    (landing_path,) = require(args, "landing_path")
    return over_days(args, lambda day: ingest(spark, bronze_args(day, JOB), landing_path))


if __name__ == "__main__":
    main(run)
