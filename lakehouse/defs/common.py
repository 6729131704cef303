"""Pieces every layer shares: the ingestion-day partitions, retry policy, owners and metadata helpers."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, TypeVar

import dagster as dg

from glue_scripts.common.api_client import ApiError
from glue_scripts.jobs.bronze_ingest_db import SourceUnavailableError

T = TypeVar("T")

START_DATE = "2024-01-01"
OWNERS = ["team:data-platform"]

INGESTION_DAYS = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC", fmt="%Y-%m-%d")

MAX_RETRIES = 3
BASE_DELAY_SECONDS = 5.0


def run_with_transient_retry(context: dg.AssetExecutionContext, call: Callable[[], T]) -> T:
    """Run `call`; on a transient source failure (rate limit, 5xx, unreachable) ask Dagster to retry the step
    with exponential backoff and jitter. Anything else (bad configuration, bad data) fails at once."""
    try:
        return call()
    except (ApiError, SourceUnavailableError, ConnectionError, TimeoutError) as error:
        attempt = context.retry_number
        if attempt >= MAX_RETRIES:
            raise
        wait = BASE_DELAY_SECONDS * 2**attempt * random.uniform(0.5, 1.5)
        context.log.warning(f"transient failure (attempt {attempt + 1}/{MAX_RETRIES + 1}), retrying in {wait:.1f}s: {error}")
        raise dg.RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=wait) from error


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
