"""Glue job bronze_ingest_files: one landing partition of CSV or JSON Lines drops → one bronze partition."""

from __future__ import annotations

from functools import reduce
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from glue_scripts.common.bronze_job import BronzeArgs, bronze_args, landing_ref, write_bronze
from glue_scripts.common.days import over_days
from glue_scripts.common.entry import main, require
from glue_scripts.common.fs import join
from glue_scripts.common.landing import LandingFile, list_files, read_header, vet_files
from glue_scripts.transforms.bronze import CORRUPT, FIELDS, expand_fields, json_lines

JOB = "bronze_ingest_files"
SOURCE_FILE = "_source_file"


def read_csv(spark: SparkSession, files: list[LandingFile]) -> DataFrame | None:
    """Read CSV files as raw strings, grouped by header so drifted files keep their extra columns.

    Spark's CSV reader pads a short line with nulls and drops the surplus fields of a long one unless
    a corrupt-record column is in the schema; with it, both kinds keep their raw line there.
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    for file in files:
        header = tuple(read_header(file))
        if header:
            groups.setdefault(header, []).append(file.uri)
    frames = []
    for header, uris in groups.items():
        schema = T.StructType([T.StructField(c, T.StringType()) for c in (*header, CORRUPT)])
        frame = (
            spark.read.schema(schema)
            .option("header", "true")
            .option("enforceSchema", "true")
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", CORRUPT)
            .option("quote", '"')
            .option("escape", '"')
            .option("encoding", "UTF-8")
            .csv(uris)
        )
        frames.append(frame.withColumn(SOURCE_FILE, F.input_file_name()))
    if not frames:
        return None
    return reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)


def read_jsonl(spark: SparkSession, files: list[LandingFile]) -> DataFrame | None:
    """Read JSON Lines files with every value as its raw text; unparseable lines go to `_corrupt_record`."""
    if not files:
        return None
    lines = spark.read.text([f.uri for f in files]).withColumn(SOURCE_FILE, F.input_file_name())
    parsed = json_lines(lines)
    keys = sorted(r[0] for r in parsed.select(F.explode(F.map_keys(FIELDS))).distinct().collect())
    return expand_fields(parsed, keys)


def ingest(spark: SparkSession, job: BronzeArgs, landing_path: str) -> dict[str, Any]:
    """Vet, read, tag and write one partition of one file-drop entity."""
    spec = job.spec
    folder = join(landing_path, spec.source, spec.entity, job.partition)
    files, corrupt = vet_files(list_files(folder), False, job.quarantine_path, spec.name, job.partition, job.run_id)
    raw = read_csv(spark, files) if spec.fmt == "csv" else read_jsonl(spark, files)
    if raw is None:
        empty = T.StructType([T.StructField(c, T.StringType()) for c in (*spec.columns, CORRUPT, SOURCE_FILE)])
        raw = spark.createDataFrame([], empty)
    source_rows = raw.count()
    bronze = job.stamp(raw, F.col(SOURCE_FILE))
    return write_bronze(bronze, job, source_rows=source_rows, source_ref=landing_ref(files, folder, corrupt),
                        corrupt_files=corrupt)


def run(spark: SparkSession, args: dict[str, str]) -> dict[str, Any]:
    """Ingest `--table` for `--ingestion_date` (through `--ingestion_date_end`) from `--landing_path` into `--bronze_path`."""
    bronze_args(args, JOB)
    (landing_path,) = require(args, "landing_path")
    return over_days(args, lambda day: ingest(spark, bronze_args(day, JOB), landing_path))


if __name__ == "__main__":
    main(run)
