"""Glue job gold_build: rebuild one gold mart from the current silver tables, in one atomic swap.

The engine (`--engine duckdb|spark`, default spark; Glue always runs spark) is chosen here, once, and passed
down; the marts are SQL defined once (`glue_scripts/transforms/gold*.py`). Additive marts are summed from
per-silver-partition partials of which only the stale ones are recomputed (`glue_scripts/common/gold_job.py`);
the others are a full recompute. Every mart column is cast to its declared type, so both engines write the same schema.

The mart folder `<gold_path>/<mart>/` is written as a partition of `<gold_path>`, so its staging and
trash folders sit in `<gold_path>/_staging` and `<gold_path>/_trash`, outside the folder being swapped.
No `writer.recover` here: marts of one gold path may build concurrently and share that trash folder,
and a swap interrupted between its renames only leaves the mart absent until its next full rebuild.
"""

from __future__ import annotations

from typing import Any

from glue_scripts.common.days import ingestion_days
from glue_scripts.common.entry import main, require
from glue_scripts.common.fs import join
from glue_scripts.common.gold_job import mart_sql, measure
from glue_scripts.common.reports import (
    GoldQuality, GoldReport, MartBuild, MeasureReconciliation, Partials, as_schema,
)
from glue_scripts.engine import Engine, make_engine
from glue_scripts.engine.dialect import typed_select
from glue_scripts.engine.io import folder_files, partition_files, register_table
from glue_scripts.transforms.gold import MARTS_BY_NAME, input_columns, mart_names

JOB = "gold_build"


def latest_day(table_path: str) -> str | None:
    """The newest `ingestion_date` partition holding data files of a silver table, None when it has none."""
    return max(partition_files(table_path), default=None)


def build(engine: Engine, args: dict[str, str]) -> GoldReport:
    """Rebuild `--mart` from `--silver_path` into `<gold_path>/<mart>/` on `engine`; the date and run id only label it.

    A mart reflects the current silver, so a range of ingestion dates (`--ingestion_date` through
    `--ingestion_date_end`) is built once, as of its last day: the report's one day.
    """
    names = ("mart", "ingestion_date", "silver_path", "gold_path", "run_id")
    name, _, silver_path, gold_path, run_id = require(args, *names)
    if name not in MARTS_BY_NAME:
        raise ValueError(f"{JOB} does not build mart {name!r}; expected one of {mart_names()}")
    days = ingestion_days(args)
    mart = MARTS_BY_NAME[name]
    inputs = {t: register_table(engine, t, join(silver_path, t), input_columns(t)) for t in mart.inputs}
    sql, recompute = mart_sql(engine, name, inputs, silver_path, gold_path)
    stats = engine.write(typed_select(mart.columns, f"({sql}) AS m"), gold_path, name, mart.grain)
    written = engine.register(f"{name}_written", stats["path"], folder_files(stats["path"]), mart.columns,
                              partitioned=False)
    silver_days = {t: latest_day(join(silver_path, t)) for t in mart.inputs}
    totals, quality = measure(engine, mart, written, inputs, silver_days)
    built = MartBuild(rows=int(stats["rows"]), bytes=int(stats["bytes"]), files=int(stats["files"]),
                      path=str(stats["path"]), schema=as_schema(mart.columns), totals=totals,
                      quality=_quality(quality), recompute=str(recompute["recompute"]), partials=_partials(recompute))
    return GoldReport(job=JOB, mart=name, engine=engine.name, run_id=run_id, days={days[-1]: built})


def _quality(measured: dict[str, Any]) -> GoldQuality:
    """The typed form of gold_quality.mart_quality's measures."""
    return GoldQuality(
        grain_duplicates=int(measured["grain_duplicates"]), negative_measures=dict(measured["negative_measures"]),
        reconciliation={m: MeasureReconciliation(**r) for m, r in measured["reconciliation"].items()},
        silver_days=dict(measured["silver_days"]))


def _partials(recompute: dict[str, Any]) -> Partials | None:
    """What an incremental build did with its partials (gold_job.refresh_partials's report); None for a full recompute."""
    if recompute["recompute"] != "incremental":
        return None
    return Partials(recomputed=tuple(recompute["partials_recomputed"]), removed=tuple(recompute["partials_removed"]),
                    reused=int(recompute["partials_reused"]))


def run(spark: Any, args: dict[str, str]) -> GoldReport:
    """The Glue entry point: pick the engine from `--engine` (default spark), build, release the engine."""
    engine = make_engine(args.get("engine") or "spark", spark)
    try:
        return build(engine, args)
    finally:
        engine.close()


if __name__ == "__main__":
    main(run)
