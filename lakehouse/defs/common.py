"""Pieces every layer shares: the ingestion-day partitions, retry policy, owners and metadata helpers."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationTargetMaterializationData
from dagster_shared.record import replace

from glue_scripts.common.redact import redact
from glue_scripts.common.reports import (
    BronzeDay, BronzeReport, GoldReport, ReportError, Schema, SilverDay, SilverReport,
)
from glue_scripts.common.transient import TransientSourceError
from lakehouse.defs.columns import COLUMN_DESCRIPTIONS
from lakehouse.resources.glue import GlueJobRunFailed, GlueRun
from lakehouse.settings import Calendar, load_calendar

T = TypeVar("T")
R = TypeVar("R", BronzeReport, SilverReport, GoldReport)

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


def is_transient(error: BaseException) -> bool:
    """True for a transient source failure: raised in this process, or reported by a failed Glue run's message."""
    if isinstance(error, GlueJobRunFailed):
        return error.transient
    return isinstance(error, (TransientSourceError, ConnectionError, TimeoutError))


def run_with_transient_retry(context: dg.AssetExecutionContext, call: Callable[[], T]) -> T:
    """Run `call`; on a transient source failure (rate limit, 5xx, unreachable), in process or inside a Glue run,
    ask Dagster to retry the step with exponential backoff and jitter. Anything else (bad configuration, bad
    data) fails at once."""
    try:
        return call()
    except Exception as error:
        if not is_transient(error):
            raise
        attempt = context.retry_number
        if attempt >= MAX_RETRIES:
            raise
        wait = retry_delay(attempt, BASE_DELAY_SECONDS)
        context.log.warning(f"transient failure (attempt {attempt + 1}/{MAX_RETRIES + 1}), retrying in {wait:.1f}s: "
                            f"{redact(error)}")
        raise dg.RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=wait) from error


# Silver, gold and Snowflake follow their upstream partitions on their own (declarative automation,
# evaluated by the automation sensor). `eager()` would only look at the latest day; ingestion days
# arrive late and out of order, so the time-window clause is dropped. A day whose upstream failed a
# blocking check (checks are per day) is held back; the other days go on.
FOLLOW_UPSTREAM = (
    dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window())
    & dg.AutomationCondition.all_deps_blocking_checks_passed()
)


def table_schema(columns: Schema) -> dg.TableSchema:
    """A Dagster TableSchema from [name, type] pairs as the Glue jobs report them, each column described."""
    return dg.TableSchema(columns=[dg.TableColumn(name=str(n), type=str(t), description=COLUMN_DESCRIPTIONS.get(str(n)))
                                   for n, t in columns])


def job_metadata(rows: int, size: int, path: str, schema: Schema, glue_run_id: str) -> dict[str, Any]:
    """Materialization metadata common to every Glue-backed table: rows, bytes, path, schema, run id."""
    metadata: dict[str, Any] = {
        "dagster/row_count": rows,
        "bytes": size,
        "path": dg.MetadataValue.path(path),
        "glue_job_run_id": glue_run_id,
    }
    if schema:
        metadata["dagster/column_schema"] = table_schema(schema)
    return metadata


def day_range_args(days: Sequence[str]) -> dict[str, str]:
    """The Glue arguments naming a run's ingestion days: one date, or the first and last of a range."""
    return {"ingestion_date": days[0], **({"ingestion_date_end": days[-1]} if len(days) > 1 else {})}


def report_of(run: GlueRun, kind: type[R]) -> R:
    """The run's report (parsed by the Glue resource) as the report kind its layer reads."""
    if not isinstance(run.report, kind):
        raise ReportError(f"{run.report.job} report: a {type(run.report).__name__}, expected a {kind.__name__}")
    return run.report


def days_metadata(path: str, by_day: Mapping[str, BronzeDay | SilverDay], glue_run_id: str) -> dict[str, Any]:
    """Materialization metadata of a run's days (one day is a range of one): rows and bytes summed, the table
    folder, the last day's schema and the rows of each day."""
    last = by_day[max(by_day)]
    return {**job_metadata(sum(d.rows for d in by_day.values()), sum(d.bytes for d in by_day.values()), path,
                           last.schema, glue_run_id),
            "rows_by_day": dg.MetadataValue.json({day: d.rows for day, d in by_day.items()})}


def per_day(specs: Sequence[dg.AssetCheckSpec]) -> list[dg.AssetCheckSpec]:
    """The checks partitioned by ingestion day (Dagster 1.13's preview `AssetCheckSpec.partitions_def`): each day's
    result is recorded on its own partition, and a failed blocking check holds back only that day downstream."""
    return [replace(spec, partitions_def=INGESTION_DAYS) for spec in specs]


def _target_materialization(instance: dg.DagsterInstance, key: dg.AssetKey, day: str) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The latest materialization of `key`'s partition `day`: the one a check evaluation of that day is about."""
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1).records
    if not records:
        return None
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=records[0].storage_id, run_id=records[0].run_id, timestamp=records[0].timestamp)


def check_events(
    context: dg.AssetExecutionContext, by_day: Mapping[str, Sequence[dg.AssetCheckResult]],
) -> Iterator[dg.Output | dg.AssetCheckEvaluation]:
    """One evaluation per check and ingestion day, recorded on that day's partition, after the materialization.

    Dagster 1.13 records an `AssetCheckResult` on the step's partition only when the run has one partition; a range
    run (a single-run backfill) would record it on none. So the step yields the evaluations itself, with their
    partition and the materialization of that partition they judge, and one output per check, which is what
    downstream steps wait on. A failed blocking evaluation still fails the step (the executor collects them).
    """
    assets_def = context.assets_def
    selected = context.selected_asset_check_keys
    emitted: set[dg.AssetCheckKey] = set()
    for day, results in by_day.items():
        for result in results:
            key = dg.AssetCheckKey(result.asset_key or context.asset_key, str(result.check_name))
            if key not in selected:
                continue
            spec = assets_def.get_spec_for_check_key(key)
            if key not in emitted:
                emitted.add(key)
                yield dg.Output(None, output_name=assets_def.get_output_name_for_asset_check_key(key))
            yield dg.AssetCheckEvaluation(
                asset_key=key.asset_key, check_name=key.name, passed=result.passed, metadata=result.metadata,
                severity=result.severity, description=result.description, blocking=spec.blocking,
                partition=day if spec.partitions_def is not None else None,
                target_materialization_data=_target_materialization(context.instance, key.asset_key, day),
            )
