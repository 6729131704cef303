"""Gold assets, one per mart: each partition rebuilds the mart from silver as of that ingestion day; a backfill
range builds it once, as of its last day."""

import time
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg

from glue_scripts.common import catalogue
from glue_scripts.common.reports import GoldQuality, GoldReport, MartBuild, plain
from glue_scripts.transforms.gold import MARTS, Mart
from lakehouse.defs.common import (
    FOLLOW_UPSTREAM, INGESTION_DAYS, OWNERS, RANGE_BACKFILL, check_events, day_range_args, job_metadata, per_day,
    report_of, table_schema,
)
from lakehouse.defs.gold.freshness import GOLD_FRESHNESS
from lakehouse.resources import Catalog, GlueJobs, Metrics, Warehouse


def check_specs(mart: Mart, key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """Grain, sign, reconciliation with silver, and freshness relative to silver; each evaluated per ingestion day."""
    return per_day([
        dg.AssetCheckSpec("grain_is_unique", asset=key, blocking=True,
                          description=f"One row per ({', '.join(mart.grain)})."),
        dg.AssetCheckSpec("measures_are_non_negative", asset=key, blocking=True,
                          description="Counts, quantities and revenues are never negative."),
        dg.AssetCheckSpec("totals_reconcile_with_silver", asset=key, blocking=True,
                          description="Mart totals equal the same totals computed directly on silver: "
                                      + "; ".join(f"{m} = silver {r}" for m, r in mart.reconcile.items()) + "."),
        dg.AssetCheckSpec("built_from_silver_of_its_day", asset=key,
                          description="Every silver input was materialized for the run's ingestion days before the mart was built."),
    ])


def silver_materialized(instance: dg.DagsterInstance, mart: Mart, days: Sequence[str]) -> dict[str, float | None]:
    """When each silver input's partitions `days` were all materialized (the oldest latest stamp, epoch seconds),
    None if any of them never was."""
    stamps: dict[str, float | None] = {}
    for table in mart.inputs:
        key = dg.AssetKey(["silver", table])
        latest = [instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1).records
                  for day in days]
        stamps[table] = min(records[0].timestamp for records in latest) if all(latest) else None
    return stamps


def evaluate(mart: Mart, key: dg.AssetKey, quality: GoldQuality, silver: dict[str, float | None]) -> list[dg.AssetCheckResult]:
    """Check results from the quality measures the gold job reported and silver's materialization record."""
    negative = dict(quality.negative_measures)
    reconciliation = {measure: plain(r) for measure, r in quality.reconciliation.items()}
    stale = sorted(t for t, stamp in silver.items() if stamp is None)
    return [
        dg.AssetCheckResult(check_name="grain_is_unique", asset_key=key, passed=quality.grain_duplicates == 0,
                            metadata={"duplicate_grain_keys": quality.grain_duplicates}),
        dg.AssetCheckResult(check_name="measures_are_non_negative", asset_key=key, passed=not any(negative.values()),
                            metadata={"negative_rows": dg.MetadataValue.json(negative)}),
        dg.AssetCheckResult(check_name="totals_reconcile_with_silver", asset_key=key,
                            passed=bool(reconciliation) and all(r.equal for r in quality.reconciliation.values()),
                            metadata={"totals": dg.MetadataValue.json(reconciliation)}),
        dg.AssetCheckResult(check_name="built_from_silver_of_its_day", asset_key=key, passed=not stale,
                            metadata={"missing_silver_partitions": ", ".join(stale) or "none",
                                      "silver_latest_days": dg.MetadataValue.json(dict(quality.silver_days))}),
    ]


def incremental_metadata(build: MartBuild) -> dict[str, Any]:
    """How the job rebuilt the mart: `recompute` (full | incremental) and, if incremental, the partials it touched."""
    metadata: dict[str, Any] = {"recompute": build.recompute}
    if build.partials is not None:
        metadata.update(partials_recomputed=", ".join(build.partials.recomputed) or "none",
                        partials_removed=", ".join(build.partials.removed) or "none",
                        partials_reused=build.partials.reused)
    return metadata


def build_gold_asset(mart: Mart) -> dg.AssetsDefinition:
    """One gold mart asset running the `gold_build` Glue job."""
    key, entry = dg.AssetKey(["gold", mart.name]), catalogue.table("gold", mart.name)

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(i.split("/")) for i in entry.inputs],
        partitions_def=INGESTION_DAYS,
        group_name="gold",
        kinds={"glue", "s3", "parquet"},
        owners=OWNERS,
        tags={"layer": "gold"},
        description=entry.description,
        metadata={"dagster/table_name": f"gold.{mart.name}", "glue_job": "gold_build", "grain": ", ".join(entry.grain),
                  "dagster/column_schema": table_schema(entry.columns)},
        check_specs=check_specs(mart, key),
        freshness_policy=GOLD_FRESHNESS,
        automation_condition=FOLLOW_UPSTREAM,
        backfill_policy=RANGE_BACKFILL,
        pool="glue",
    )
    def _gold(context: dg.AssetExecutionContext, glue: GlueJobs, warehouse: Warehouse, catalog: Catalog,
              metrics: Metrics) -> Iterator[dg.MaterializeResult | dg.Output | dg.AssetCheckEvaluation]:
        days = context.partition_keys
        silver = {day: silver_materialized(context.instance, mart, [day]) for day in days}
        started = time.monotonic()
        run = glue.run(context, "gold_build", {"mart": mart.name, **day_range_args(days), "silver_path": warehouse.uri("silver"),
                                               "gold_path": warehouse.uri("gold"), "run_id": context.run_id, "engine": glue.engine})
        # A range builds the mart once, as of its last day: every day of the range is judged on that build.
        build = report_of(run, GoldReport).for_days([days[-1]])[days[-1]]
        metrics.publish("gold", mart.name, {"rows_out": build.rows, "duration_seconds": time.monotonic() - started})
        catalog.refresh(context, "gold", mart.name, warehouse.uri("gold", mart.name))
        yield dg.MaterializeResult(
            metadata={**job_metadata(build.rows, build.bytes, build.path, build.schema, run.run_id),
                      "totals": dg.MetadataValue.json(dict(build.totals)), **incremental_metadata(build)})
        yield from check_events(context, {day: evaluate(mart, key, build.quality, silver[day]) for day in days})

    return _gold


GOLD_ASSETS: list[dg.AssetsDefinition] = [build_gold_asset(mart) for mart in MARTS]
