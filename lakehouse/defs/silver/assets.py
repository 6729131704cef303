"""Silver assets, one per silver table of the catalogue (the keyed TPC-H tables and the web events): each partition
merges one bronze day; a backfill range merges its days in order inside one Glue run."""

import time
from collections.abc import Iterable, Iterator

import dagster as dg

from glue_scripts.common import catalogue
from glue_scripts.common.reports import SilverDay, SilverReport
from glue_scripts.common.specs import SILVER_TABLES, SilverTable
from lakehouse.defs.common import (
    FOLLOW_UPSTREAM, INGESTION_DAYS, OWNERS, RANGE_BACKFILL, check_events, day_range_args, days_metadata, report_of,
    table_schema,
)
from lakehouse.defs.silver.checks import QuarantineThresholds, check_specs, evaluate
from lakehouse.resources import Catalog, GlueJobs, Metrics, Warehouse


COUNTS = ("bronze_rows", "contributing", "exact_duplicates", "superseded", "quarantined", "held", "released")


def _rule_totals(days: Iterable[SilverDay]) -> dict[str, int]:
    """Quarantined rows per rule, summed over the days of a run."""
    totals: dict[str, int] = {}
    for day in days:
        for rule, n in day.quarantined_by_rule.items():
            totals[rule] = totals.get(rule, 0) + n
    return totals


def build_silver_asset(spec: SilverTable) -> dg.AssetsDefinition:
    """One daily-partitioned silver asset running the `silver_build` Glue job for its bronze table."""
    name, entry = spec.name, catalogue.table("silver", spec.name)
    key = dg.AssetKey(["silver", name])

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(i.split("/")) for i in entry.inputs],
        partitions_def=INGESTION_DAYS,
        group_name="silver",
        kinds={"glue", "s3", "parquet"},
        owners=OWNERS,
        tags={"layer": "silver"},
        description=entry.description,
        metadata={"dagster/table_name": f"silver.{name}", "glue_job": "silver_build",
                  "primary_key": ", ".join(entry.grain) or "none", "dagster/column_schema": table_schema(entry.columns)},
        check_specs=check_specs(spec, key),
        automation_condition=FOLLOW_UPSTREAM,
        backfill_policy=RANGE_BACKFILL,
        pool="glue",
    )
    def _silver(
        context: dg.AssetExecutionContext, config: QuarantineThresholds, glue: GlueJobs, warehouse: Warehouse,
        catalog: Catalog, metrics: Metrics,
    ) -> Iterator[dg.MaterializeResult | dg.Output | dg.AssetCheckEvaluation]:
        days = context.partition_keys
        args = {"table": name, **day_range_args(days), "bronze_path": warehouse.uri("bronze"),
                "silver_path": warehouse.uri("silver"), "quarantine_path": warehouse.uri("quarantine"), "run_id": context.run_id,
                "engine": glue.engine}
        started = time.monotonic()
        run = glue.run(context, "silver_build", args)
        report = report_of(run, SilverReport)
        by_day = report.for_days(days)
        counts = {k: sum(getattr(day, k) for day in by_day.values()) for k in COUNTS}
        metrics.publish("silver", name, {
            "rows_in": counts["bronze_rows"], "rows_out": counts["contributing"], "quarantined_rows": counts["quarantined"],
            "quarantine_ratio": counts["quarantined"] / counts["bronze_rows"] if counts["bronze_rows"] else 0.0,
            "duration_seconds": time.monotonic() - started,
        })
        catalog.refresh(context, "silver", name, warehouse.uri("silver", name))
        catalog.refresh(context, "quarantine", name, warehouse.uri("quarantine", name))
        # A run measures the table's quality once, after its last day; every day's checks read that measure.
        yield dg.MaterializeResult(metadata={
            **days_metadata(report.path, by_day, run.run_id), **counts,
            "quarantined_by_rule": dg.MetadataValue.json(_rule_totals(by_day.values())),
            "partitions_rewritten": dg.MetadataValue.json(
                list(dict.fromkeys(p for day in by_day.values() for p in day.partitions_rewritten))),
            "dagster/row_count": by_day[days[-1]].rows})
        yield from check_events(context, {d: evaluate(spec, key, day, report.quality, config) for d, day in by_day.items()})

    return _silver


SILVER_ASSETS: list[dg.AssetsDefinition] = [build_silver_asset(table) for table in SILVER_TABLES]
