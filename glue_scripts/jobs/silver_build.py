"""Glue job silver_build: settle bronze day D into its silver table (one current row per key) and quarantine.

Silver is a function of bronze: after any order of first runs, re-runs, restated deliveries and backfills, silver
and quarantine equal `silver_scratch.from_scratch` over the merged bronze partitions, the days that have run (all
of them once every day has run; the rule is `silver_merge.settle`).
Layout: silver/<table>/ingestion_date=<D>/ holds the current rows that batch D delivered; quarantine/<table>/
ingestion_date=<D>/ holds batch D's rejected rows and its held rows (the partition is the batch's ingestion date).

A run of batch D (cost follows the keys it touches, not the history):
1. the key set K: keys of bronze D's rule-passing rows, keys whose silver or held rows came from batch D (a
   restated D may have withdrawn them), held keys whose references now resolve, silver keys whose references no
   longer do, keys repeated in silver, and the key sets of interrupted runs;
2. K is recorded under <silver table>/_pending/D before any write;
3. the bronze history of K: every merged bronze partition (one with a silver partition: its day has run), filtered
   on K by its typed key before standardizing, with all of bronze D; `settle` gives each row its status;
4. every silver partition that loses or gains a row of K is rewritten with its rows outside K and its new current
   rows of K, and the same for the held rows of each quarantine partition; partition D of both is always
   rewritten (its rejected rows from bronze D), last; then the recorded key sets are dropped.
Crash safety: every write swaps one whole partition, and a crash leaves K recorded: the next run of any day adds
it to its own key set, settles those keys again and rewrites whatever partitions still disagree.
Idempotency: re-running D recomputes the same partitions; rows already written keep their `_run_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_scripts.common import silver_io, spark_io, writer
from glue_scripts.common.days import ingestion_days, over_days
from glue_scripts.common.entry import main, require
from glue_scripts.common.fs import join
from glue_scripts.common.specs import SILVER_BY_NAME, SilverSpec
from glue_scripts.transforms import silver_web as web
from glue_scripts.transforms.bronze import schema_of, window
from glue_scripts.transforms.quality import read_table, table_quality
from glue_scripts.transforms.silver_merge import (
    PARTITION, QUARANTINE_LINEAGE, STATUS, STATUSES, affected_keys, keep_run_ids, quarantine_rows,
    reconciliation, rule_counts, settle,
)
from glue_scripts.transforms.silver_standardize import RULES_COL, conform_raw, silver_columns, standardize

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


def _refs(spark: SparkSession, spec: SilverSpec, job: SilverArgs) -> dict[str, DataFrame | None]:
    refs: dict[str, DataFrame | None] = {}
    for fk in spec.foreign_keys:
        ref = read_current(spark, job.silver_path, fk.table)
        refs[fk.table] = None if ref is None else ref.select(*fk.ref_columns)
    return refs


def changes(old: DataFrame | None, new: DataFrame, on: list[str]) -> dict[tuple[str, str], int]:
    """{("lost" | "gained", day): rows}: rows of `old` (by `_partition`) missing from `new` (by `_ingestion_date`),
    and the reverse, matched on `on` and the day."""
    new_rows = new.select(*on, F.col("_ingestion_date").alias("__day"))
    if old is None:
        both = new_rows.withColumn("__side", F.lit("gained"))
    else:
        old_rows = old.select(*on, F.col(PARTITION).alias("__day"))
        lost = old_rows.join(new_rows, [*on, "__day"], "left_anti").withColumn("__side", F.lit("lost"))
        gained = new_rows.join(old_rows, [*on, "__day"], "left_anti").withColumn("__side", F.lit("gained"))
        both = lost.unionByName(gained)
    return {(r["__side"], r["__day"]): int(r["count"]) for r in both.groupBy("__side", "__day").count().collect()}


def build_table(spark: SparkSession, spec: SilverSpec, job: SilverArgs) -> dict[str, Any]:
    """Settle again, from bronze history, every key batch D touches or used to touch; rewrite the partitions whose
    rows change (D always), recording the key set first so an interrupted run is finished by the next; return counts."""
    silver_table, quarantine_table = job.path("silver"), job.path("quarantine")
    writer.recover(silver_table)
    writer.recover(quarantine_table)
    pk, by_row, on_q = list(spec.primary_key), [*spec.primary_key, "_record_hash"], [*QUARANTINE_LINEAGE, STATUS]
    bronze_table = join(job.bronze_path, spec.bronze)
    refs = _refs(spark, spec, job)
    batch = standardize(conform_raw(silver_io.read_bronze_day(spark, bronze_table, job.day), spec), spec)
    batch = batch.localCheckpoint(eager=True)
    silver = silver_io.read_partitioned(spark, silver_table)
    held = silver_io.read_held(spark, quarantine_table, spec)
    pending = silver_io.pending_names(silver_table)
    keys = affected_keys(spec, job.day, batch, silver, held, refs, silver_io.read_pending(spark, silver_table, pending))
    keys = keys.localCheckpoint(eager=True)
    silver_io.record_pending(keys, silver_table, job.day)
    merged = set(silver_io.days(silver_table)) - {job.day}
    history = silver_io.bronze_history(spark, bronze_table, spec, keys, batch, merged).localCheckpoint(eager=True)
    settled = settle(history, spec, refs).localCheckpoint(eager=True)

    old_rows = None if silver is None else silver.join(keys, pk, "left_semi").localCheckpoint(eager=True)
    old_held = None if held is None else held.join(keys, pk, "left_semi").localCheckpoint(eager=True)
    current = keep_run_ids(settled.where(F.col(STATUS) == "current"), old_rows,
                           [*by_row, "_ingestion_date"], job.run_id).localCheckpoint(eager=True)
    moved = changes(old_rows, current, by_row)
    held_moved = changes(old_held, settled.where(F.col(STATUS) == "held"), list(QUARANTINE_LINEAGE))
    silver_days = sorted({d for _, d in moved} - {job.day}, reverse=True)
    q_days = sorted({d for _, d in held_moved} - {job.day}, reverse=True)
    before = 0 if silver is None else silver.count()
    released = 0 if old_held is None else old_held.join(
        current, [*QUARANTINE_LINEAGE, "_ingestion_date"], "left_semi").count()
    old_q = silver_io.read_partitioned(spark, quarantine_table)
    old_q = None if old_q is None else old_q.where(F.col(PARTITION).isin(job.day, *q_days))
    bad = quarantine_rows(settled.where((F.col(STATUS) == "held") | (F.col("_ingestion_date") == job.day)), spec)
    bad = keep_run_ids(bad, None if old_q is None else old_q.withColumnRenamed(PARTITION, "_ingestion_date"),
                       [*on_q, "_ingestion_date"], job.run_id).localCheckpoint(eager=True)

    written = 0
    for day in [*silver_days, job.day]:
        kept = None if silver is None else silver.where(F.col(PARTITION) == day).join(keys, pk, "left_anti")
        written += silver_io.write_silver(current.where(F.col("_ingestion_date") == day), kept, spec, silver_table, day)
    for day in [*q_days, job.day]:
        kept_q = None if old_q is None or day == job.day else silver_io.kept_quarantine(old_q, old_held, day)
        silver_io.write_quarantine(bad.where(F.col("_ingestion_date") == day), kept_q, spec, quarantine_table, day)
    silver_io.clear_pending(silver_table, [*pending, job.day])

    mine = settled.where(F.col("_ingestion_date") == job.day)
    grouped = [(r[STATUS], r[RULES_COL], int(r["count"])) for r in mine.groupBy(STATUS, RULES_COL).count().collect()]
    status = {k: sum(n for s, _, n in grouped if s == k) for k in STATUSES}
    lost = {d: n for (side, d), n in moved.items() if side == "lost"}
    gained = sum(n for (side, _), n in moved.items() if side == "gained")
    result = {
        "bronze_rows": sum(status.values()),
        "contributing": status["current"],
        "exact_duplicates": status["duplicate"],
        "superseded": status["superseded"],
        "quarantined": status["rejected"] + status["held"],
        "quarantined_by_rule": rule_counts((rules, n) for s, rules, n in grouped if s in ("rejected", "held")),
        "held": status["held"],
        "released": released,
        "replaced": sum(n for d, n in lost.items() if d != job.day),
        "rows": before - sum(lost.values()) + gained,
        "bytes": written,
        "partitions_rewritten": [job.day, *silver_days],
        "quarantine_partitions_rewritten": [job.day, *q_days],
        "schema": schema_of(current.select(*silver_columns(spec))),
    }
    if job.quality:
        result["quality"] = table_quality(spark, spec, job.silver_path)
    return result


def build_web_events(spark: SparkSession, job: SilverArgs) -> dict[str, Any]:
    """Replace web_events partition D with bronze D's parsed lines; malformed lines go to quarantine D."""
    silver_table, quarantine_table = job.path("silver"), job.path("quarantine")
    writer.recover(silver_table)
    writer.recover(quarantine_table)
    bronze = silver_io.read_bronze_day(spark, join(job.bronze_path, WEB_BRONZE), job.day)
    events = web.standardize_logs(web.conform_logs(bronze)).localCheckpoint(eager=True)
    on = ["_source_ref", "_record_hash"]
    previous = silver_io.read_partition(spark, silver_table, job.day)
    rows = keep_run_ids(web.web_silver_rows(events), previous, on, job.run_id)
    rows = rows.select(*web.WEB_COLUMNS, *web.WEB_METADATA)
    stats = spark_io.write_partition(rows.sortWithinPartitions("ts"), silver_table, job.partition)
    previous_q = silver_io.read_partition(spark, quarantine_table, job.day)
    quarantine = keep_run_ids(web.web_quarantine_rows(events), previous_q, on, job.run_id)
    spark_io.write_partition(quarantine.drop("_ingestion_date"), quarantine_table, job.partition)
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
        "bytes": stats["bytes"],
        "partitions_rewritten": [job.day], "quarantine_partitions_rewritten": [job.day], "schema": schema_of(rows),
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
