"""Silver's I/O: bronze history of a key set, silver and quarantine with their partition, partition rewrites and
pending key sets."""

from __future__ import annotations

from functools import reduce

import pyarrow.fs as pafs
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_scripts.common import spark_io, writer
from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.common.specs import SilverSpec
from glue_scripts.transforms.quality import read_table
from glue_scripts.transforms.silver_merge import PARTITION, QUARANTINE_LINEAGE, STATUS, quarantine_columns
from glue_scripts.transforms.silver_standardize import conform_raw, parse, silver_columns, standardize

PENDING = "_pending"
PREFIX = "ingestion_date="


def _folders(path: str) -> list[str]:
    fs, root = filesystem_for(path)
    infos = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True))
    return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)


def days(table_path: str) -> list[str]:
    """The ingestion dates with a partition folder under `table_path`, in order."""
    return [f[len(PREFIX):] for f in _folders(table_path) if f.startswith(PREFIX)]


def read_partitioned(spark: SparkSession, table_path: str) -> DataFrame | None:
    """All partitions of a table with the partition's ingestion date as string `_partition`; None before any."""
    df = read_table(spark, table_path)
    if df is None:
        return None
    return df.withColumn(PARTITION, F.col("ingestion_date").cast("string")).drop("ingestion_date")


def read_partition(spark: SparkSession, table_path: str, day: str) -> DataFrame | None:
    """One partition's files as written, or None when the partition does not exist."""
    path = join(table_path, PREFIX + day)
    fs, local = filesystem_for(path)
    if fs.get_file_info(local).type == pafs.FileType.NotFound:
        return None
    return spark.read.parquet(path)


def read_bronze_day(spark: SparkSession, bronze_table: str, day: str) -> DataFrame:
    """Bronze partition `day` alone (its own schema: drift and `_corrupt_record` columns vary by day)."""
    df = read_partition(spark, bronze_table, day)
    if df is None:
        raise FileNotFoundError(
            f"bronze partition {join(bronze_table, PREFIX + day)} does not exist; run the bronze job for {day} first")
    return df


def with_keys(raw: DataFrame, spec: SilverSpec, keys: DataFrame) -> DataFrame:
    """The conformed raw rows whose typed primary key is in `keys`, filtered before the rest is standardized."""
    typed = {c.name: parse(c, F.col(c.name))[0] for c in spec.columns if c.name in spec.primary_key}
    tagged = raw.select("*", *[v.alias(f"__key_{k}") for k, v in typed.items()])
    wanted = keys.select(*[F.col(k).alias(f"__key_{k}") for k in typed])
    return tagged.join(wanted, [f"__key_{k}" for k in typed], "left_semi").select(*raw.columns)


def bronze_history(
    spark: SparkSession, bronze_table: str, spec: SilverSpec, keys: DataFrame, batch: DataFrame, merged: set[str]
) -> DataFrame:
    """Standardized bronze rows of `keys` from the `merged` partitions, with all of `batch` (the day being run)."""
    frames = [batch]
    for other in days(bronze_table):
        if other in merged:
            raw = conform_raw(read_bronze_day(spark, bronze_table, other), spec)
            frames.append(standardize(with_keys(raw, spec, keys), spec))
    return reduce(DataFrame.unionByName, frames)


def read_held(spark: SparkSession, quarantine_table: str, spec: SilverSpec) -> DataFrame | None:
    """Held quarantine rows standardized again, with `_partition`, `_ingestion_date` (= partition) and `_run_id`."""
    quarantine = read_partitioned(spark, quarantine_table)
    if quarantine is None:
        return None
    held = quarantine.where(F.col(STATUS) == "held").withColumn("_ingestion_date", F.col(PARTITION))
    return standardize(conform_raw(held, spec, (PARTITION, "_run_id")), spec, (PARTITION, "_run_id"))


def write_silver(rows: DataFrame, kept: DataFrame | None, spec: SilverSpec, table: str, day: str) -> int:
    """Write silver partition `day` from its kept rows and its new rows; return the bytes written."""
    columns, pk = list(silver_columns(spec)), list(spec.primary_key)
    rows = rows.select(*columns) if kept is None else kept.select(*columns).unionByName(rows.select(*columns))
    return int(spark_io.write_partition(rows.sortWithinPartitions(*pk), table, f"ingestion_date={day}")["bytes"])


def kept_quarantine(old_q: DataFrame, old_held: DataFrame | None, day: str) -> DataFrame:
    """Quarantine partition `day` without the held rows of the keys being settled again."""
    rows = old_q.where(F.col(PARTITION) == day)
    if old_held is None:
        return rows
    drop = old_held.where(F.col(PARTITION) == day).select(*QUARANTINE_LINEAGE).withColumn(STATUS, F.lit("held"))
    return rows.join(drop, [*QUARANTINE_LINEAGE, STATUS], "left_anti")


def write_quarantine(rows: DataFrame, kept: DataFrame | None, spec: SilverSpec, table: str, day: str) -> None:
    """Write quarantine partition `day` from its kept rows and its new rejected and held rows."""
    columns = list(quarantine_columns(spec))
    rows = rows.select(*columns) if kept is None else kept.select(*columns).unionByName(rows.select(*columns))
    spark_io.write_partition(rows, table, f"ingestion_date={day}")


def pending_names(silver_table: str) -> list[str]:
    """Names of the key sets recorded by runs that have not finished their writes."""
    return _folders(join(silver_table, PENDING))


def read_pending(spark: SparkSession, silver_table: str, names: list[str]) -> DataFrame | None:
    """The union of the recorded key sets `names`, or None."""
    if not names:
        return None
    return spark.read.parquet(*[join(silver_table, PENDING, n) for n in names])


def record_pending(keys: DataFrame, silver_table: str, day: str) -> str:
    """Record the key set a run of `day` is about to rewrite (skipped by readers: the folder starts with `_`)."""
    spark_io.write_partition(keys.coalesce(1), silver_table, f"{PENDING}/{day}")
    return day


def clear_pending(silver_table: str, names: list[str]) -> None:
    """Drop recorded key sets once the run that read them has written everything."""
    for name in names:
        writer.remove(silver_table, f"{PENDING}/{name}")
