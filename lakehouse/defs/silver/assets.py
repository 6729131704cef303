"""Silver assets, one per silver table spec plus web events: each partition merges one bronze day."""

import time
from typing import Any

import dagster as dg

from glue_scripts.common.specs import SILVER_SPECS, SilverSpec
from lakehouse.defs.common import FOLLOW_UPSTREAM, INGESTION_DAYS, OWNERS, job_metadata
from lakehouse.defs.silver.checks import QuarantineThresholds, check_specs, evaluate
from lakehouse.resources import Catalog, GlueJobs, Metrics, Warehouse


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
        pool="glue",
    )
    def _silver(
        context: dg.AssetExecutionContext, config: QuarantineThresholds, glue: GlueJobs, warehouse: Warehouse,
        catalog: Catalog, metrics: Metrics,
    ) -> dg.MaterializeResult:
        day = context.partition_key
        args = {"table": name, "ingestion_date": day, "bronze_path": warehouse.uri("bronze"),
                "silver_path": warehouse.uri("silver"), "quarantine_path": warehouse.uri("quarantine"), "run_id": context.run_id}
        started = time.monotonic()
        run = glue.run(context, "silver_build", args)
        bronze_rows, quarantined = int(run.metadata.get("bronze_rows", 0)), int(run.metadata.get("quarantined", 0))
        metrics.publish("silver", name, {
            "rows_in": bronze_rows, "rows_out": int(run.metadata.get("contributing", 0)), "quarantined_rows": quarantined,
            "quarantine_ratio": quarantined / bronze_rows if bronze_rows else 0.0, "duration_seconds": time.monotonic() - started,
        })
        catalog.refresh(context, "silver", name, warehouse.uri("silver", name))
        catalog.refresh(context, "quarantine", name, warehouse.uri("quarantine", name))
        counts: dict[str, Any] = {k: run.metadata.get(k) for k in
                                  ("bronze_rows", "contributing", "exact_duplicates", "superseded", "quarantined", "held", "released")}
        return dg.MaterializeResult(
            metadata={**job_metadata(run.metadata, run.run_id), **{k: int(v or 0) for k, v in counts.items()},
                      "quarantined_by_rule": dg.MetadataValue.json(run.metadata.get("quarantined_by_rule") or {}),
                      "partitions_rewritten": dg.MetadataValue.json(run.metadata.get("partitions_rewritten") or [])},
            check_results=evaluate(spec, key, run.metadata, config),
        )

    return _silver


SILVER_ASSETS: list[dg.AssetsDefinition] = [
    *(build_silver_asset(spec.name, spec.bronze, spec) for spec in SILVER_SPECS),
    build_silver_asset("web_events", "logs__web_access", None),
]
