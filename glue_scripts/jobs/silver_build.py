"""Glue job silver_build: merge one bronze day into its silver table (one current row per key) and quarantine.

The engine (`--engine duckdb|spark`, default spark; Glue always runs spark) is chosen here, once, and passed
down; silver is SQL defined once from the table specs (`glue_scripts/transforms/silver_*.py`), run by
`glue_scripts/common/silver_job.py`.

Silver is a function of bronze: after any order of first runs, re-runs, restated deliveries and backfills,
silver and quarantine equal the from-scratch merge of the merged days' bronze (the rule is the docstring of
`glue_scripts/transforms/silver_merge.py`). silver/<table>/ingestion_date=<D>/ holds the current rows batch D
delivered; quarantine/<table>/ingestion_date=<D>/ holds batch D's rejected and held rows (their day is the
partition's, so quarantine files carry no `_ingestion_date`).

A run of batch D keeps the incremental cost: it settles again only the keys D touches or used to touch (keys
of D's candidates, of silver partition D, of every held row, silver keys whose reference was withdrawn, keys
an interrupted run left pending), reading those keys' rows from every merged bronze day (filtered on the key
before parsing), and rewrites partition D and only the partitions that gain or lose a row.
Crash safety: every write swaps one whole partition; the affected keys are recorded in `_pending` first, so
the next run of any day settles them again. Idempotency: re-running D recomputes the same partitions; rows
already written keep their `_run_id`.
"""

from __future__ import annotations

from typing import Any

from glue_scripts.common.days import over_days
from glue_scripts.common.entry import main, require
from glue_scripts.common.reports import SilverDay, SilverReport
from glue_scripts.common.silver_job import SilverArgs, build_table, build_web_events, table_quality
from glue_scripts.common.specs import SILVER_TABLES_BY_NAME, SilverSpec
from glue_scripts.engine import Engine, make_engine
from glue_scripts.transforms.bronze import window

JOB = "silver_build"


def silver_args(args: dict[str, str]) -> SilverArgs:
    """Validate the arguments: a known silver table and an ISO ingestion date."""
    table, day, bronze, silver, quarantine, run_id = require(
        args, "table", "ingestion_date", "bronze_path", "silver_path", "quarantine_path", "run_id"
    )
    if table not in SILVER_TABLES_BY_NAME:
        raise ValueError(f"silver_build does not build table {table!r}; expected one of {sorted(SILVER_TABLES_BY_NAME)}")
    window(day)
    return SilverArgs(table, day, bronze, silver, quarantine, run_id, args.get("quality", "true").lower() != "false")


def run(spark: Any, args: dict[str, str]) -> SilverReport:
    """Merge bronze `--ingestion_date` (through `--ingestion_date_end`, one day after another, as a merge must) into
    silver `--table` on `--engine` (default spark); report counts that reconcile with bronze per day, and the
    table's quality once, after the last day (unless `--quality false`)."""
    job = silver_args(args)
    engine = make_engine(args.get("engine") or "spark", spark)
    try:
        days = over_days(args, lambda day: run_day(engine, day))
        spec = SILVER_TABLES_BY_NAME[job.table]
        keyed = isinstance(spec, SilverSpec)
        quality = table_quality(engine, spec, job.silver_path) if job.quality and keyed else None
        return SilverReport(job=JOB, table=job.table, path=job.path("silver"), quarantine_path=job.path("quarantine"),
                            quality=quality, days=days)
    finally:
        engine.close()


def run_day(engine: Engine, args: dict[str, str]) -> SilverDay:
    """Build silver `--table` from bronze partition `--ingestion_date`; report counts that reconcile with bronze."""
    job = silver_args(args)
    spec = SILVER_TABLES_BY_NAME[job.table]
    if isinstance(spec, SilverSpec):
        return build_table(engine, spec, job)
    return build_web_events(engine, job)


if __name__ == "__main__":
    main(run)
