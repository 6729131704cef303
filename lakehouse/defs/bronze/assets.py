"""Bronze assets, one per source entity, generated from the table specs: each partition is one Glue run."""


import time

import dagster as dg

from glue_scripts.common.specs import BRONZE_SPECS, BronzeSpec
from lakehouse.defs.bronze.checks import check_specs, evaluate, previous_partition_columns
from lakehouse.defs.common import INGESTION_DAYS, OWNERS, job_metadata, run_with_transient_retry
from lakehouse.resources import Catalog, GlueJobs, Metrics, SourceSystems, Warehouse

SOURCE_DESCRIPTIONS = {
    "db": "extracted from the relational database by `updated_at` watermark (JDBC)",
    "api": "pulled from the CRM API by `updated_since` with paging and retries",
    "files": "read from the partner file drops in the landing zone",
    "logs": "read from the gzip web server access logs in the landing zone",
}


def job_args(spec: BronzeSpec, day: str, run_id: str, warehouse: Warehouse, sources: SourceSystems) -> dict[str, str]:
    """The Glue job arguments for one partition; the watermark and window derive from the day alone."""
    args = {
        "table": spec.name,
        "ingestion_date": day,
        "bronze_path": warehouse.uri("bronze"),
        "quarantine_path": warehouse.uri("quarantine"),
        "run_id": run_id,
    }
    if spec.source in ("files", "logs"):
        args["landing_path"] = warehouse.uri("landing")
    elif spec.source == "db":
        args["jdbc_url"] = sources.db_url
        if sources.db_user:
            args.update(jdbc_user=sources.db_user, jdbc_password_env=sources.db_password_env)
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
        pool="glue",
    )
    def _bronze(
        context: dg.AssetExecutionContext, glue: GlueJobs, warehouse: Warehouse, catalog: Catalog,
        sources: SourceSystems, metrics: Metrics,
    ) -> dg.MaterializeResult:
        day = context.partition_key
        table_uri = warehouse.uri("bronze", spec.name)
        previous = previous_partition_columns(table_uri, day)
        started = time.monotonic()
        run = run_with_transient_retry(context, lambda: glue.run(context, spec.job, job_args(spec, day, context.run_id, warehouse, sources)))
        metrics.publish("bronze", spec.name, {
            "rows_in": run.metadata.get("source_rows", 0), "rows_out": run.metadata.get("rows", 0),
            "corrupt_files": len(run.metadata.get("corrupt_files") or []), "duration_seconds": time.monotonic() - started,
        })
        for corrupt in run.metadata.get("corrupt_files") or []:
            context.log.warning(f"{spec.name} {day}: quarantined unreadable file {corrupt['path']}: {corrupt['reason']}")
        catalog.refresh(context, "bronze", spec.name, table_uri)
        return dg.MaterializeResult(
            metadata={
                **job_metadata(run.metadata, run.run_id),
                "source_rows": int(run.metadata.get("source_rows", 0)),
                "source_ref": str(run.metadata.get("source_ref", "")),
            },
            check_results=evaluate(spec, key, run.metadata, previous),
        )

    return _bronze


BRONZE_ASSETS: list[dg.AssetsDefinition] = [build_bronze_asset(spec) for spec in BRONZE_SPECS]
