"""Bronze assets, one per source entity, generated from the table specs: each partition, or each
range of partitions in a backfill, is one Glue run."""

import time
from collections.abc import Iterator, Sequence

import dagster as dg

from glue_scripts.common.reports import BronzeReport
from glue_scripts.common.specs import BRONZE_SPECS, BronzeSpec
from lakehouse.defs.bronze.checks import check_specs, evaluate, previous_partition_columns
from lakehouse.defs.common import (
    INGESTION_DAYS, OWNERS, RANGE_BACKFILL, check_events, day_range_args, days_metadata, report_of,
    run_with_transient_retry,
)
from lakehouse.defs.landing import landing_fingerprints
from lakehouse.resources import Catalog, GlueJobs, Metrics, SourceSystems, Warehouse

SOURCE_DESCRIPTIONS = {
    "db": "extracted from the relational database by `updated_at` watermark (JDBC)",
    "api": "pulled from the CRM API by `updated_since` with paging and retries",
    "files": "read from the partner file drops in the landing zone",
    "logs": "read from the gzip web server access logs in the landing zone",
}


def job_args(spec: BronzeSpec, days: Sequence[str], run_id: str, warehouse: Warehouse, sources: SourceSystems) -> dict[str, str]:
    """The Glue job arguments for a partition or a range of them; each day's watermark window derives from the day."""
    args = {
        "table": spec.name,
        **day_range_args(days),
        "bronze_path": warehouse.uri("bronze"),
        "quarantine_path": warehouse.uri("quarantine"),
        "run_id": run_id,
    }
    if spec.source in ("files", "logs"):
        args["landing_path"] = warehouse.uri("landing")
    elif spec.source == "db":
        args.update(sources.db_job_args())
    elif spec.source == "api":
        args.update(api_url=sources.api_base_url(), api_token_env=sources.api_token_env)
    return args


def build_bronze_asset(spec: BronzeSpec) -> dg.AssetsDefinition:
    """One daily-partitioned bronze asset that runs the source's Glue ingestion job."""
    key = dg.AssetKey(["bronze", spec.name])

    @dg.asset(
        key=key,
        partitions_def=INGESTION_DAYS,
        group_name="bronze",
        kinds={"glue", "s3", "parquet"},
        owners=OWNERS,
        tags={"layer": "bronze", "source": spec.source},
        description=(
            f"Raw `{spec.entity}` rows {SOURCE_DESCRIPTIONS[spec.source]}, one partition per ingestion date, "
            "every source value kept as delivered, plus ingestion metadata (`_source_ref`, `_record_hash`, ...)."
        ),
        metadata={"dagster/table_name": f"bronze.{spec.name}", "glue_job": spec.job},
        check_specs=check_specs(spec, key),
        backfill_policy=RANGE_BACKFILL,
        pool="glue",
    )
    def _bronze(
        context: dg.AssetExecutionContext, glue: GlueJobs, warehouse: Warehouse, catalog: Catalog,
        sources: SourceSystems, metrics: Metrics,
    ) -> Iterator[dg.MaterializeResult | dg.Output | dg.AssetCheckEvaluation]:
        days = context.partition_keys
        table_uri = warehouse.uri("bronze", spec.name)
        previous = previous_partition_columns(table_uri, days[0])
        started = time.monotonic()
        args = job_args(spec, days, context.run_id, warehouse, sources)
        landing = landing_fingerprints(warehouse, spec, days)
        run = run_with_transient_retry(context, lambda: glue.run(context, spec.job, args))
        report = report_of(run, BronzeReport)
        by_day = report.for_days(days)
        corrupt = [file for day in by_day.values() for file in day.corrupt_files]
        source_rows = sum(day.source_rows for day in by_day.values())
        metrics.publish("bronze", spec.name, {
            "rows_in": source_rows, "rows_out": sum(day.rows for day in by_day.values()),
            "corrupt_files": len(corrupt), "duration_seconds": time.monotonic() - started,
        })
        for file in corrupt:
            context.log.warning(f"{spec.name}: quarantined unreadable file {file.path}: {file.reason}")
        catalog.refresh(context, "bronze", spec.name, table_uri)
        checks = {day: evaluate(spec, key, result, previous if i == 0 else previous_partition_columns(table_uri, day))
                  for i, (day, result) in enumerate(by_day.items())}
        yield dg.MaterializeResult(metadata={
            **days_metadata(report.path, by_day, run.run_id),
            "source_rows": source_rows,
            "source_ref": "; ".join(day.source_ref for day in by_day.values()),
            **landing,
        })
        yield from check_events(context, checks)

    return _bronze


BRONZE_ASSETS: list[dg.AssetsDefinition] = [build_bronze_asset(spec) for spec in BRONZE_SPECS]
