"""Glue job gold_build: rebuild one gold mart from the current silver tables, in one atomic swap.

Additive marts are summed from per-silver-partition partials of which only the stale ones are recomputed
(`glue_scripts/transforms/gold_incremental.py`); the others are a full recompute.

The mart folder `<gold_path>/<mart>/` is written as a partition of `<gold_path>`, so its staging and
trash folders sit in `<gold_path>/_staging` and `<gold_path>/_trash`, outside the folder being swapped.
No `writer.recover` here: marts of one gold path may build concurrently and share that trash folder,
and a swap interrupted between its renames only leaves the mart absent until its next full rebuild.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame, SparkSession

from glue_scripts.common import spark_io
from glue_scripts.common.days import ingestion_days
from glue_scripts.common.entry import main, require
from glue_scripts.common.fs import join
from glue_scripts.transforms import gold_incremental
from glue_scripts.transforms.bronze import schema_of
from glue_scripts.transforms.gold import MARTS_BY_NAME, input_schema, mart_names, measure_totals
from glue_scripts.transforms.gold_quality import latest_day, mart_quality, silver_reference
from glue_scripts.transforms.quality import read_table

JOB = "gold_build"


def read_silver(spark: SparkSession, silver_path: str, table: str) -> DataFrame:
    """The current rows of a silver table (union of its partitions), or an empty frame of its schema."""
    df = read_table(spark, join(silver_path, table))
    return df if df is not None else spark.createDataFrame([], input_schema(table))


def run(spark: SparkSession, args: dict[str, str]) -> dict[str, Any]:
    """Rebuild `--mart` from `--silver_path` into `<gold_path>/<mart>/`; the date and run id only label it.

    A mart reflects the current silver, so a range of ingestion dates (`--ingestion_date` through
    `--ingestion_date_end`) is built once, as of its last day.
    """
    names = ("mart", "ingestion_date", "silver_path", "gold_path", "run_id")
    name, day, silver_path, gold_path, run_id = require(args, *names)
    if name not in MARTS_BY_NAME:
        raise ValueError(f"{JOB} does not build mart {name!r}; expected one of {mart_names()}")
    days = ingestion_days(args)
    mart = MARTS_BY_NAME[name]
    inputs = {t: read_silver(spark, silver_path, t) for t in mart.inputs}
    df, recompute = gold_incremental.build(spark, name, inputs, silver_path, gold_path)
    ordered = df.repartition(1).sortWithinPartitions(*mart.grain)
    stats = spark_io.write_partition(ordered, gold_path, name)
    written = spark.read.parquet(stats["path"])
    totals = measure_totals(written, mart.grain)
    silver_days = {t: latest_day(frame) for t, frame in inputs.items()}
    return {
        "mart": name,
        **stats,
        "schema": schema_of(df),
        "totals": totals,
        "quality": mart_quality(name, written, mart.grain, totals, silver_reference(inputs), silver_days),
        "ingestion_date": day,
        "ingestion_date_end": days[-1],
        "run_id": run_id,
        **recompute,
    }


if __name__ == "__main__":
    main(run)
