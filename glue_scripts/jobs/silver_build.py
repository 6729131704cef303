"""Glue job silver_build: merge one bronze day into its silver table (one current row per key) and quarantine.

The engine (`--engine duckdb|spark`, default spark; Glue always runs spark) is chosen here, once, and passed
down; silver is SQL defined once from the table specs (`glue_scripts/transforms/silver_*.py`), run by
`glue_scripts/common/silver_job.py`.

Layout: silver/<table>/ingestion_date=<D>/ holds the rows whose winning version the run for batch D wrote:
the winners among bronze D's valid rows plus the held rows of other days that this run released (they keep
their own `_ingestion_date`). quarantine/<table>/ingestion_date=<D>/ holds batch D's rejected and held rows
(their day is the partition's, so quarantine files carry no `_ingestion_date`).

Merge of batch D (no rescan of full history):
1. standardize bronze D; drop exact duplicates (same `_record_hash` in the batch, or as a silver row in another
   partition); reject rule breakers; hold rows whose foreign keys miss the current referenced silver tables;
2. release held rows of the other quarantine partitions whose keys now resolve;
3. rank per key the projection (key, `_updated_at`, `_ingestion_date`, `_record_hash`) of the other silver
   partitions with partition D's rows from other batches, the batch's valid rows and the released rows; the
   greatest (`_updated_at`, `_ingestion_date`, `_record_hash`) wins, exact ties go to rows already in silver;
4. write partition D (its winners), then each other partition that lost a row (rewritten without it), then
   quarantine D, then the quarantine partitions that released rows (each through `Engine.write`).
Crash safety: every write swaps one whole partition. A crash after partition D but before an older partition
leaves a key twice; the next run of any day ranks all rows again and rewrites the loser's partition. A crash
before a quarantine partition drops released rows leaves them held; the next run releases them again, they
lose the exact tie to their copy already in silver and are only removed from quarantine.
Idempotency: re-running D recomputes the same partitions; rows already written keep their `_run_id`.
"""

from __future__ import annotations

from typing import Any

from glue_scripts.common.days import ingestion_days, over_days
from glue_scripts.common.entry import main, require
from glue_scripts.common.silver_job import SilverArgs, build_table, build_web_events
from glue_scripts.common.specs import SILVER_BY_NAME
from glue_scripts.engine import Engine, make_engine
from glue_scripts.transforms.bronze import window
from glue_scripts.transforms.silver_merge import reconciliation

WEB_EVENTS = "web_events"
TABLES: tuple[str, ...] = (*SILVER_BY_NAME, WEB_EVENTS)


def silver_args(args: dict[str, str]) -> SilverArgs:
    """Validate the arguments: a known silver table and an ISO ingestion date."""
    table, day, bronze, silver, quarantine, run_id = require(
        args, "table", "ingestion_date", "bronze_path", "silver_path", "quarantine_path", "run_id"
    )
    if table not in TABLES:
        raise ValueError(f"silver_build does not build table {table!r}; expected one of {sorted(TABLES)}")
    window(day)
    return SilverArgs(table, day, bronze, silver, quarantine, run_id, args.get("quality", "true").lower() != "false")


def run(spark: Any, args: dict[str, str]) -> dict[str, Any]:
    """Merge bronze `--ingestion_date` (through `--ingestion_date_end`, one day after another, as a merge must) into
    silver `--table` on `--engine` (default spark); return counts that reconcile with bronze. A range measures
    table quality once, after its last day."""
    silver_args(args)
    last = ingestion_days(args)[-1]
    engine = make_engine(args.get("engine") or "spark", spark)
    try:
        return over_days(args, lambda day: run_day(
            engine, day if day["ingestion_date"] == last else {**day, "quality": "false"}))
    finally:
        engine.close()


def run_day(engine: Engine, args: dict[str, str]) -> dict[str, Any]:
    """Build silver `--table` from bronze partition `--ingestion_date`; return counts that reconcile with bronze."""
    job = silver_args(args)
    if job.table == WEB_EVENTS:
        result = build_web_events(engine, job)
    else:
        result = build_table(engine, SILVER_BY_NAME[job.table], job)
    result = {"table": job.table, "ingestion_date": job.day, **result, "path": job.path("silver"),
              "quarantine_path": job.path("quarantine")}
    result["reconciliation"] = reconciliation(result)
    return result


if __name__ == "__main__":
    main(run)
