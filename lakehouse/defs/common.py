"""Pieces every layer shares: the ingestion-day partitions, retry policy, owners and metadata helpers."""

from __future__ import annotations

from typing import Any

import dagster as dg

START_DATE = "2024-01-01"
OWNERS = ["team:data-platform"]

INGESTION_DAYS = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC", fmt="%Y-%m-%d")

TRANSIENT_RETRY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


# Silver, gold and Snowflake follow their upstream partitions on their own (declarative automation,
# evaluated by the automation sensor). `eager()` would only look at the latest day; ingestion days
# arrive late and out of order, so the time-window clause is dropped.
FOLLOW_UPSTREAM = dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window())


def table_schema(columns: list[Any]) -> dg.TableSchema:
    """A Dagster TableSchema from [name, type] pairs as the Glue jobs report them."""
    return dg.TableSchema(columns=[dg.TableColumn(name=str(n), type=str(t)) for n, t in columns])


def job_metadata(result: dict[str, Any], glue_run_id: str) -> dict[str, Any]:
    """Materialization metadata common to every Glue-backed table: rows, bytes, path, schema, run id."""
    metadata: dict[str, Any] = {
        "dagster/row_count": int(result.get("rows", 0)),
        "bytes": int(result.get("bytes", 0)),
        "path": dg.MetadataValue.path(str(result.get("path", ""))),
        "glue_job_run_id": glue_run_id,
    }
    if result.get("schema"):
        metadata["dagster/column_schema"] = table_schema(result["schema"])
    return metadata
