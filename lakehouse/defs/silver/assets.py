"""Silver assets, one per silver table spec plus web events: each partition merges one bronze day; a backfill
range merges its days in order inside one Glue run."""

import time
from collections.abc import Iterable, Iterator

import dagster as dg

from glue_scripts.common.reports import SilverDay, SilverReport
from glue_scripts.common.specs import SILVER_SPECS, SilverSpec
from lakehouse.defs.common import (
    FOLLOW_UPSTREAM, INGESTION_DAYS, OWNERS, RANGE_BACKFILL, check_events, day_range_args, days_metadata, report_of,
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


def _description(spec: SilverSpec | None) -> str:
    if spec is None:
        return ("One row per parsed web access log line (timestamp, client, method, path, status, bytes, referrer, "
                "user agent, customer and part keys where present, bot flag); malformed lines go to quarantine.")
    refs = ", ".join(f"{fk.table}" for fk in spec.foreign_keys) or "none"
    return (f"TPC-H `{spec.name}`: one current row per ({', '.join(spec.primary_key)}), the latest valid version by "
            f"`{spec.version_column}` across all ingestion dates; trimmed, upper-cased codes, typed. "
            f"Rows breaking a rule go to `quarantine/{spec.name}`; rows whose references ({refs}) have not arrived "
            "are held there and released when they do. Partitioned by the ingestion date that wrote each winning row.")


def build_silver_asset(name: str, bronze: str, spec: SilverSpec | None) -> dg.AssetsDefinition:
    """One daily-partitioned silver asset running the `silver_build` Glue job for its bronze table."""
    key = dg.AssetKey(["silver", name])
    deps = [dg.AssetKey(["bronze", bronze]), *(dg.AssetKey(["silver", fk.table]) for fk in (spec.foreign_keys if spec else ()))]

    @dg.asset(
        key=key,
        deps=list(dict.fromkeys(deps)),
        partitions_def=INGESTION_DAYS,
        group_name="silver",
        kinds={"glue", "s3", "parquet"},
        owners=OWNERS,
        tags={"layer": "silver"},
        description=_description(spec),
        metadata={"dagster/table_name": f"silver.{name}", "glue_job": "silver_build",
                  "primary_key": ", ".join(spec.primary_key) if spec else "none"},
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


SILVER_ASSETS: list[dg.AssetsDefinition] = [
    *(build_silver_asset(spec.name, spec.bronze, spec) for spec in SILVER_SPECS),
    build_silver_asset("web_events", "logs__web_access", None),
]
