"""Pieces every layer shares: the ingestion-day partitions, retry policy, owners and metadata helpers."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

import dagster as dg

from glue_scripts.common.api_client import ApiError
from glue_scripts.jobs.bronze_ingest_db import SourceUnavailableError
from lakehouse.settings import Calendar, load_calendar

T = TypeVar("T")

OWNERS = ["team:data-platform"]


def ingestion_days(calendar: Calendar) -> dg.DailyPartitionsDefinition:
    """The daily ingestion-date partitions: on aws from the configured start date to the latest complete UTC day;
    locally exactly the simulated world's days, so the catalog lists the days that exist and none missing."""
    if calendar.profile == "aws":
        return dg.DailyPartitionsDefinition(start_date=calendar.start_date.isoformat(), timezone="UTC", fmt="%Y-%m-%d")
    days = calendar.world_days()
    end = date.fromisoformat(max(days)) + timedelta(days=1)
    return dg.DailyPartitionsDefinition(start_date=min(days), end_date=end.isoformat(), timezone="UTC", fmt="%Y-%m-%d")


# The one ingestion-day partitions definition every asset, check and job uses, resolved once per process from the
# environment the code location starts with (LAKEHOUSE_ENV, LAKEHOUSE_ROOT, LAKEHOUSE_START_DATE).
INGESTION_DAYS = ingestion_days(load_calendar())

# Every Glue job takes a range of ingestion dates and applies its days in order inside one Glue run, so a
# backfill of N days is one run per asset instead of N (gold builds once, as of the range's last day).
RANGE_BACKFILL = dg.BackfillPolicy.single_run()

MAX_RETRIES = 3
BASE_DELAY_SECONDS = 5.0


def retry_delay(attempt: int, base: float = BASE_DELAY_SECONDS) -> float:
    """Seconds to wait before retry `attempt + 1`: exponential in the attempt, with ±50% jitter."""
    return base * 2**attempt * random.uniform(0.5, 1.5)


def run_with_transient_retry(context: dg.AssetExecutionContext, call: Callable[[], T]) -> T:
    """Run `call`; on a transient source failure (rate limit, 5xx, unreachable) ask Dagster to retry the step
    with exponential backoff and jitter. Anything else (bad configuration, bad data) fails at once."""
    try:
        return call()
    except (ApiError, SourceUnavailableError, ConnectionError, TimeoutError) as error:
        attempt = context.retry_number
        if attempt >= MAX_RETRIES:
            raise
        wait = retry_delay(attempt, BASE_DELAY_SECONDS)
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


def day_range_args(days: Sequence[str]) -> dict[str, str]:
    """The Glue arguments naming a run's ingestion days: one date, or the first and last of a range."""
    return {"ingestion_date": days[0], **({"ingestion_date_end": days[-1]} if len(days) > 1 else {})}


def results_by_day(result: dict[str, Any], days: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per-day job results: a range run reports them under `days`, a one-day run is its own result."""
    by_day = result["days"] if len(days) > 1 else {days[0]: result}
    missing = sorted(set(days) - set(by_day))
    if missing:
        raise RuntimeError(f"the Glue job reported no result for ingestion date(s) {missing}")
    return {day: by_day[day] for day in days}


def range_metadata(by_day: dict[str, dict[str, Any]], glue_run_id: str) -> dict[str, Any]:
    """Materialization metadata for one day, or for a range: totals, the last day's schema and rows per day."""
    if len(by_day) == 1:
        return job_metadata(next(iter(by_day.values())), glue_run_id)
    last = list(by_day.values())[-1]
    totals = {k: sum(int(r.get(k, 0)) for r in by_day.values()) for k in ("rows", "bytes")}
    path = str(last.get("path", "")).rsplit("/ingestion_date=", 1)[0]
    return {**job_metadata({**last, **totals, "path": path}, glue_run_id),
            "rows_by_day": dg.MetadataValue.json({day: int(r.get("rows", 0)) for day, r in by_day.items()})}


def combine_checks(by_day: dict[str, list[dg.AssetCheckResult]]) -> list[dg.AssetCheckResult]:
    """One result per check for the run: it passes when it passed on every day, and names the days that failed."""
    if len(by_day) == 1:
        return next(iter(by_day.values()))
    combined = []
    for name in dict.fromkeys(r.check_name for results in by_day.values() for r in results):
        per_day = {day: next(r for r in results if r.check_name == name) for day, results in by_day.items()}
        failed = [day for day, r in per_day.items() if not r.passed]
        shown = per_day[failed[0]] if failed else list(per_day.values())[-1]
        combined.append(dg.AssetCheckResult(
            check_name=name, asset_key=shown.asset_key, passed=not failed, severity=shown.severity,
            metadata={**shown.metadata, "failed_days": ", ".join(failed) or "none"},
        ))
    return combined
