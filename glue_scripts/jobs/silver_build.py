"""Glue job silver_build: merge one bronze day into its silver table (one current row per key) and quarantine.

Layout: silver/<table>/ingestion_date=<D>/ holds the rows whose winning version the run for batch D wrote:
the winners among bronze D's valid rows plus the held rows of other days that this run released (they keep
their own `_ingestion_date`). quarantine/<table>/ingestion_date=<D>/ holds batch D's rejected and held rows.

Merge of batch D (no rescan of full history):
1. standardize bronze D; drop exact duplicates (same `_record_hash` in the batch, or as a silver row in another
   partition); reject rule breakers; hold rows whose foreign keys miss the current referenced silver tables;
2. release held rows of the other quarantine partitions whose keys now resolve;
3. rank per key the projection (key, `_updated_at`, `_ingestion_date`, `_record_hash`) of the other silver
   partitions with partition D's rows from other batches, the batch's valid rows and the released rows; the
   greatest (`_updated_at`, `_ingestion_date`, `_record_hash`) wins, exact ties go to rows already in silver;
4. write partition D (its winners), then each other partition that lost a row (rewritten without it), then
   quarantine D, then the quarantine partitions that released rows (each through spark_io.write_partition).
Crash safety: every write swaps one whole partition. A crash after partition D but before an older partition
leaves a key twice; the next run of any day ranks all rows again and rewrites the loser's partition. A crash
before a quarantine partition drops released rows leaves them held; the next run releases them again, they
lose the exact tie to their copy already in silver and are only removed from quarantine.
Idempotency: re-running D recomputes the same partitions; rows already written keep their `_run_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow.fs as pafs
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_scripts.common import spark_io, writer
from glue_scripts.common.days import ingestion_days, over_days
from glue_scripts.common.entry import main, require
from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.common.specs import SILVER_BY_NAME, SilverSpec
from glue_scripts.transforms import silver_web as web
from glue_scripts.transforms.bronze import schema_of, window
from glue_scripts.transforms.quality import read_table, table_quality
from glue_scripts.transforms.silver_merge import (
    FK_OK, ORIGIN, PARTITION, STATUS, WINNER, classify, keep_run_ids, merge_rows, quarantine_rows, rank_versions,
    reconciliation, resolve_foreign_keys, rule_counts,
)
from glue_scripts.transforms.silver_standardize import RULES_COL, VERSION, conform_raw, silver_columns, standardize

WEB_EVENTS = "web_events"
WEB_BRONZE = "logs__web_access"
TABLES: tuple[str, ...] = (*SILVER_BY_NAME, WEB_EVENTS)


@dataclass(frozen=True)
class SilverArgs:
    """One silver_build run: which table and batch, where bronze, silver and quarantine live, which run."""

    table: str
    day: str
    bronze_path: str
    silver_path: str
    quarantine_path: str
    run_id: str
    quality: bool = True

    @property
    def partition(self) -> str:
        """The partition folder name, `ingestion_date=D`."""
        return f"ingestion_date={self.day}"

    def path(self, layer: str, table: str | None = None) -> str:
        """Table folder of `table` (default: this job's table) in the silver or quarantine layer."""
        root = self.silver_path if layer == "silver" else self.quarantine_path
        return join(root, table or self.table)


def read_current(spark: SparkSession, silver_path: str, table: str) -> DataFrame | None:
    """The current silver table as one DataFrame (all partitions, silver columns only), or None before its first run."""
    df = read_table(spark, join(silver_path, table))
    return None if df is None else df.drop("ingestion_date")


def _with_partition(df: DataFrame | None) -> DataFrame | None:
    if df is None:
        return None
    return df.withColumn(PARTITION, F.col("ingestion_date").cast("string")).drop("ingestion_date")


def _read_bronze(spark: SparkSession, bronze_path: str, bronze: str, job: SilverArgs) -> DataFrame:
    """Bronze partition D alone (its own schema: drift and `_corrupt_record` columns vary by day)."""
    path = join(bronze_path, bronze, job.partition)
    fs, local = filesystem_for(path)
    if fs.get_file_info(local).type == pafs.FileType.NotFound:
        raise FileNotFoundError(f"bronze partition {path} does not exist; run the bronze job for {job.day} first")
    return spark.read.parquet(path)


def _write(df: DataFrame, table_path: str, day: str) -> str:
    spark_io.write_partition(df, table_path, f"ingestion_date={day}")
    return day


def _rewrite_without(spark: SparkSession, table_path: str, day: str, drop: DataFrame, on: list[str]) -> str:
    """Rewrite one partition without the rows matching `drop` on `on`."""
    current = spark.read.parquet(join(table_path, f"ingestion_date={day}"))
    return _write(current.join(drop, on, "left_anti").select(*current.columns), table_path, day)


def _refs(spark: SparkSession, spec: SilverSpec, job: SilverArgs) -> dict[str, DataFrame | None]:
    refs: dict[str, DataFrame | None] = {}
    for fk in spec.foreign_keys:
        ref = read_current(spark, job.silver_path, fk.table)
        refs[fk.table] = None if ref is None else ref.select(*fk.ref_columns)
    return refs


def _released(
    spark: SparkSession, spec: SilverSpec, job: SilverArgs, refs: dict[str, DataFrame | None]
) -> DataFrame | None:
    """Held rows of other quarantine partitions whose foreign keys now resolve, standardized, with `_partition`."""
    quarantine = _with_partition(read_table(spark, job.path("quarantine")))
    if quarantine is None:
        return None
    held = quarantine.where((F.col(STATUS) == "held") & (F.col(PARTITION) != job.day))
    typed = standardize(conform_raw(held, spec, (PARTITION,)), spec, (PARTITION,))
    return resolve_foreign_keys(typed, spec, refs).where(F.col(FK_OK) & (F.size(RULES_COL) == 0))


def build_table(spark: SparkSession, spec: SilverSpec, job: SilverArgs) -> dict[str, Any]:
    """Merge bronze partition D of `spec` into silver and quarantine; return the run's counts."""
    silver_table, quarantine_table = job.path("silver"), job.path("quarantine")
    writer.recover(silver_table)
    writer.recover(quarantine_table)
    pk, columns = list(spec.primary_key), list(silver_columns(spec))
    by_row, by_quarantine_row = [*pk, "_record_hash"], ["_record_hash", "_source_ref"]
    silver = _with_partition(read_table(spark, silver_table))
    other = None if silver is None else silver.select(*pk, VERSION, "_ingestion_date", "_record_hash", PARTITION).where(
        F.col(PARTITION) != job.day)
    existing_d = None if silver is None else silver.where(F.col(PARTITION) == job.day).drop(PARTITION)
    refs = _refs(spark, spec, job)
    bronze = standardize(conform_raw(_read_bronze(spark, job.bronze_path, spec.bronze, job), spec), spec)
    batch = classify(bronze, spec, other, refs).localCheckpoint(eager=True)
    own_d = None if existing_d is None else existing_d.where(F.col("_ingestion_date") == job.day)
    valid = keep_run_ids(batch.where(F.col(STATUS) == "valid"), own_d, by_row, job.run_id)
    released = _released(spark, spec, job, refs)
    released = None if released is None else released.withColumn("_run_id", F.lit(job.run_id))
    keep = None if existing_d is None else existing_d.where(F.col("_ingestion_date") != job.day)
    ranked = rank_versions(merge_rows(spec, job.day, valid, released, keep, other), spec).localCheckpoint(eager=True)
    stats = [(r[ORIGIN], r[WINNER], r[PARTITION], int(r["count"])) for r in
             ranked.groupBy(ORIGIN, WINNER, PARTITION).count().collect()]

    new_d = ranked.where(F.col(WINNER) & (F.col(ORIGIN) != "old")).select(*columns).sortWithinPartitions(*pk)
    written = spark_io.write_partition(new_d, silver_table, job.partition)
    rewritten = [job.day]
    for day in sorted({p for o, w, p, _ in stats if o == "old" and not w}):
        drop = ranked.where(~F.col(WINNER) & (F.col(ORIGIN) == "old") & (F.col(PARTITION) == day))
        rewritten.append(_rewrite_without(spark, silver_table, day, drop.select(*by_row), by_row))
    previous_q = _with_partition(read_table(spark, quarantine_table))
    previous_q = None if previous_q is None else previous_q.where(F.col(PARTITION) == job.day)
    quarantine = keep_run_ids(quarantine_rows(batch, spec), previous_q, [*by_quarantine_row, STATUS], job.run_id)
    q_rewritten = [_write(quarantine, quarantine_table, job.day)]
    for day in sorted({p for o, _, p, _ in stats if o == "released"}):
        drop = ranked.where((F.col(ORIGIN) == "released") & (F.col(PARTITION) == day)).select(*by_quarantine_row)
        q_rewritten.append(_rewrite_without(spark, quarantine_table, day, drop, by_quarantine_row))

    grouped = [(r[STATUS], r[RULES_COL], int(r["count"])) for r in batch.groupBy(STATUS, RULES_COL).count().collect()]
    status = {k: sum(n for s, _, n in grouped if s == k) for k in ("duplicate", "rejected", "held", "valid")}

    def count(origin: str, winner: bool | None = None) -> int:
        return sum(n for o, w, _, n in stats if o == origin and winner in (None, w))

    result = {
        "bronze_rows": sum(status.values()),
        "contributing": count("batch", True),
        "exact_duplicates": status["duplicate"],
        "superseded": count("batch", False),
        "quarantined": status["rejected"] + status["held"],
        "quarantined_by_rule": rule_counts((rules, n) for s, rules, n in grouped if s in ("rejected", "held")),
        "held": status["held"],
        "released": count("released"),
        "replaced": count("old", False),
        "rows": sum(n for _, w, _, n in stats if w),
        "partitions_rewritten": rewritten,
        "quarantine_partitions_rewritten": q_rewritten,
        "bytes": written["bytes"],
        "schema": schema_of(new_d),
    }
    if job.quality:
        result["quality"] = table_quality(spark, spec, job.silver_path)
    return result


def build_web_events(spark: SparkSession, job: SilverArgs) -> dict[str, Any]:
    """Replace web_events partition D with bronze D's parsed lines; malformed lines go to quarantine D."""
    silver_table, quarantine_table = job.path("silver"), job.path("quarantine")
    writer.recover(silver_table)
    writer.recover(quarantine_table)
    bronze = _read_bronze(spark, job.bronze_path, WEB_BRONZE, job)
    events = web.standardize_logs(web.conform_logs(bronze)).localCheckpoint(eager=True)
    on = ["_source_ref", "_record_hash"]
    previous = _with_partition(read_table(spark, silver_table))
    previous = None if previous is None else previous.where(F.col(PARTITION) == job.day)
    rows = keep_run_ids(web.web_silver_rows(events), previous, on, job.run_id)
    rows = rows.select(*web.WEB_COLUMNS, *web.WEB_METADATA)
    written = spark_io.write_partition(rows.sortWithinPartitions("ts"), silver_table, job.partition)
    previous_q = _with_partition(read_table(spark, quarantine_table))
    previous_q = None if previous_q is None else previous_q.where(F.col(PARTITION) == job.day)
    quarantine = keep_run_ids(web.web_quarantine_rows(events), previous_q, on, job.run_id)
    _write(quarantine, quarantine_table, job.day)
    counts = events.agg(
        F.count(F.lit(1)).alias("n"), F.sum((F.size(RULES_COL) > 0).cast("int")).alias("bad"),
    ).first()
    bad_rules = events.where(F.size(RULES_COL) > 0).groupBy(RULES_COL).count().collect()
    bad = int(counts["bad"] or 0)
    return {
        "bronze_rows": int(counts["n"]), "contributing": int(counts["n"]) - bad, "exact_duplicates": 0,
        "superseded": 0, "quarantined": bad,
        "quarantined_by_rule": rule_counts((r[RULES_COL], int(r["count"])) for r in bad_rules),
        "held": 0, "released": 0, "replaced": 0, "rows": read_table(spark, silver_table).count(),
        "partitions_rewritten": [job.day], "quarantine_partitions_rewritten": [job.day], "bytes": written["bytes"],
        "schema": schema_of(rows),
    }


def silver_args(args: dict[str, str]) -> SilverArgs:
    """Validate the arguments: a known silver table and an ISO ingestion date."""
    table, day, bronze, silver, quarantine, run_id = require(
        args, "table", "ingestion_date", "bronze_path", "silver_path", "quarantine_path", "run_id"
    )
    if table not in TABLES:
        raise ValueError(f"silver_build does not build table {table!r}; expected one of {sorted(TABLES)}")
    window(day)
    return SilverArgs(table, day, bronze, silver, quarantine, run_id, args.get("quality", "true").lower() != "false")


def run(spark: SparkSession, args: dict[str, str]) -> dict[str, Any]:
    """Merge bronze `--ingestion_date` (through `--ingestion_date_end`, one day after another, as a merge must) into
    silver `--table`; return counts that reconcile with bronze. A range measures table quality once, after its last day."""
    silver_args(args)
    last = ingestion_days(args)[-1]
    return over_days(args, lambda day: run_day(spark, day if day["ingestion_date"] == last else {**day, "quality": "false"}))


def run_day(spark: SparkSession, args: dict[str, str]) -> dict[str, Any]:
    """Build silver `--table` from bronze partition `--ingestion_date`; return counts that reconcile with bronze."""
    job = silver_args(args)
    if job.table == WEB_EVENTS:
        result = build_web_events(spark, job)
    else:
        result = build_table(spark, SILVER_BY_NAME[job.table], job)
    result = {"table": job.table, "ingestion_date": job.day, **result, "path": job.path("silver"),
              "quarantine_path": job.path("quarantine")}
    result["reconciliation"] = reconciliation(result)
    return result


if __name__ == "__main__":
    main(run)
