"""Sensors and schedules: landing sensors start bronze runs for new files; a daily schedule extracts db and api.

Landing sensors keep a cursor of partition fingerprints inside a lookback window behind the newest ingestion date
seen, so late files (day k for day k-1) and rewritten files are caught while each tick lists only the partition
folders plus the files of the recent partitions. A partition whose fingerprint the cursor lacks (a first tick, a
reset cursor, a new deployment on an existing lake) is requested only when the latest bronze materialization of that
day did not ingest exactly those files. Folder names are data: a name that is no valid date, a date beyond the
future tolerance, a day outside the partitions and a nested sub-folder are reported on the tick, never raised.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import dagster as dg

from glue_scripts.common.specs import BRONZE_SPECS
from lakehouse.defs.common import INGESTION_DAYS
from lakehouse.defs.landing import (
    PARTITION_PREFIX, fingerprint, nested_folders, partition_files, read_folder, recorded_fingerprint,
)
from lakehouse.resources import Metrics, Warehouse

LOOKBACK_DAYS = 3
# The tag of landing-sensor runs; dagster.yaml runs one of them at a time.
TRIGGER_TAG = "trigger"
T = TypeVar("T")


@dataclass(frozen=True)
class LandingCursor:
    """The newest ingestion date requested or found ingested, and the fingerprints of partitions in the lookback
    window, keyed `table/day`."""

    watermark: str = ""
    partitions: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def parse(raw: str | None, today: date | None = None) -> "LandingCursor":
        """Read a cursor string; an empty or unreadable one means nothing seen yet (the instance still knows). A
        watermark that is no date, or beyond the future tolerance (an older cursor moved by a bad folder), is
        dropped."""
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        watermark = read_folder(f"{PARTITION_PREFIX}{data.get('watermark')}", today or datetime.now(UTC).date()).day
        partitions = data.get("partitions")
        return LandingCursor(watermark, dict(partitions) if isinstance(partitions, dict) else {})

    def dump(self) -> str:
        """The cursor as a compact JSON string."""
        return json.dumps({"watermark": self.watermark, "partitions": dict(sorted(self.partitions.items()))},
                          separators=(",", ":"))


@dataclass
class LandingListing:
    """The watched partitions of one source, {(table, day): {file: "size:mtime"}}, and the folders it reports."""

    partitions: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def window_start(watermark: str) -> str:
    """The oldest ingestion date still watched for late or rewritten files."""
    return (date.fromisoformat(watermark) - timedelta(days=LOOKBACK_DAYS)).isoformat() if watermark else ""


def list_landing(warehouse: Warehouse, source: str, cursor: LandingCursor, today: date | None = None) -> LandingListing:
    """The files of each watched landing partition of a source's entities, and what no partition can be read from."""
    today = today or datetime.now(UTC).date()
    start = window_start(cursor.watermark)
    listing = LandingListing()
    for spec in (s for s in BRONZE_SPECS if s.source == source):
        prefix = f"{source}/{spec.entity}"
        folders: list[str] = _safely(listing, f"landing/{prefix}", lambda: warehouse.list_dirs("landing", prefix), [])
        for folder in folders:
            where = f"landing/{prefix}/{folder!r}"
            read = read_folder(folder, today)
            if read.problem:
                listing.problems.append(f"{where} skipped: {read.problem}")
                continue
            if not INGESTION_DAYS.has_partition_key(read.day):
                if read.day < today.isoformat():
                    listing.problems.append(f"{where} skipped: not an ingestion day of this deployment")
                continue  # today's (or tomorrow's) folder: its partition opens once the day is over
            if read.day < start:
                continue
            files: dict[str, str] = _safely(
                listing, where, lambda: partition_files(warehouse, source, spec.entity, read.day), {})
            listing.problems += [f"{where}: nested sub-folder {name!r} is not read by bronze"
                                 for name in nested_folders(files)]
            if files:
                listing.partitions[(spec.name, read.day)] = files
    return listing


def _safely(listing: LandingListing, where: str, list_it: Callable[[], T], empty: T) -> T:
    """The result of one listing call; a folder that cannot be listed is reported and lists as `empty`."""
    try:
        return list_it()
    except (OSError, ValueError) as error:
        listing.problems.append(f"{where} skipped: cannot be listed ({type(error).__name__}: {error})")
        return empty


def plan_landing_runs(
    listing: LandingListing, cursor: LandingCursor, recorded: dg.DagsterInstance | None = None
) -> tuple[dict[str, list[str]], LandingCursor]:
    """The tables to run per day, for the partitions whose files differ from the cursor's and from what their latest
    bronze materialization ingested (with `recorded`, the instance), and the next cursor."""
    changed: dict[str, set[str]] = {}
    current = {f"{table}/{day}": fingerprint(files) for (table, day), files in listing.partitions.items()}
    for (table, day), files in listing.partitions.items():
        digest = current[f"{table}/{day}"]
        if cursor.partitions.get(f"{table}/{day}") == digest:
            continue
        if recorded is not None and recorded_fingerprint(recorded, dg.AssetKey(["bronze", table]), day) == digest:
            continue
        changed.setdefault(day, set()).add(table)
    days = [day for _, day in listing.partitions] + ([cursor.watermark] if cursor.watermark else [])
    watermark = max(days) if days else ""
    start = window_start(watermark)
    kept = {key: digest for key, digest in current.items() if key.rsplit("/", 1)[1] >= start}
    return {day: sorted(tables) for day, tables in sorted(changed.items())}, LandingCursor(watermark, kept)


def build_landing_sensor(source: str) -> dg.SensorDefinition:
    """A sensor that requests bronze runs for the partitions where `source`'s landing files appeared or changed."""

    @dg.sensor(
        name=f"landing_{source}_sensor",
        minimum_interval_seconds=30,
        asset_selection=[dg.AssetKey(["bronze", s.name]) for s in BRONZE_SPECS if s.source == source],
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Starts bronze runs for new, late or rewritten landing files of the `{source}` source.",
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: Warehouse) -> dg.SensorResult:
        cursor = LandingCursor.parse(context.cursor)
        listing = list_landing(warehouse, source, cursor)
        plan, next_cursor = plan_landing_runs(listing, cursor, context.instance)
        for problem in listing.problems:
            context.log.warning(f"landing {source}: {problem}")
        requests = [
            dg.RunRequest(
                run_key=f"{source}:{day}:{fingerprint({t: fingerprint(listing.partitions[t, day]) for t in tables})}",
                partition_key=day,
                asset_selection=[dg.AssetKey(["bronze", table]) for table in tables],
                tags={TRIGGER_TAG: f"landing_{source}"},
            )
            for day, tables in plan.items()
        ]
        skip = None if requests else _skip_reason(source, listing)
        return dg.SensorResult(run_requests=requests, cursor=next_cursor.dump(), skip_reason=skip)

    return _sensor


def _skip_reason(source: str, listing: LandingListing) -> str:
    """Why a tick requested nothing, naming the folders it skipped."""
    reason = f"no new or changed {source} landing files beyond what bronze has ingested"
    if not listing.problems:
        return reason
    shown = "; ".join(listing.problems[:10]) + ("; ..." if len(listing.problems) > 10 else "")
    return f"{reason}; {len(listing.problems)} folder(s) reported: {shown}"


EXTRACT_JOB = dg.define_asset_job(
    "extract_db_and_api",
    selection=[dg.AssetKey(["bronze", s.name]) for s in BRONZE_SPECS if s.source in ("db", "api")],
    partitions_def=INGESTION_DAYS,
    description="Watermark extraction of the database and the CRM API for one ingestion date.",
)


@dg.schedule(name="extract_db_and_api_schedule", cron_schedule="0 1 * * *", execution_timezone="UTC", job=EXTRACT_JOB,
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="At 01:00 UTC, extracts the day that just ended; skips days that are not partitions (the "
                         "local profile's partitions are the simulated world's days, long past).")
def extract_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """One extraction run for the ingestion date before the tick, when that date is an ingestion-day partition."""
    day = (context.scheduled_execution_time.astimezone(UTC).date() - timedelta(days=1)).isoformat()
    if not INGESTION_DAYS.has_partition_key(day):
        return dg.SkipReason(f"{day} is not an ingestion day of this deployment")
    return dg.RunRequest(run_key=day, partition_key=day, job_name=EXTRACT_JOB.name)


EXTRACT_SCHEDULE = extract_schedule

SCHEDULES = [EXTRACT_SCHEDULE]
JOBS = [EXTRACT_JOB]

# Silver merges must apply ingestion days in order, so the runs automation requests (one per ingestion day, sorted by
# day) carry a tag that dagster.yaml limits to one run at a time: day D+1 starts only after day D finished.
# Backfills are not emitted for multi-day ticks: a backfill's range runs would not queue behind these runs.
IN_ORDER_TAG = "lakehouse/applies_days_in_order"

AUTOMATION_SENSOR = dg.AutomationConditionSensorDefinition(
    "lakehouse_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    run_tags={IN_ORDER_TAG: "true"},
    emit_backfills=False,
    description="Evaluates the assets' automation conditions: silver, gold and Snowflake follow upstream partitions.",
)


@dg.run_failure_sensor(name="run_failure_alert", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Publishes a failed-run metric (CloudWatch in aws, the metrics file locally) and logs the error.")
def run_failure_alert(context: dg.RunFailureSensorContext, metrics: Metrics) -> None:
    """One `failed_runs` datum per failed run, dimensioned by the job that failed."""
    run = context.dagster_run
    message = context.failure_event.message or "run failed"
    context.log.error(f"run {run.run_id} of {run.job_name} failed: {message}")
    metrics.publish("pipeline", run.job_name, {"failed_runs": 1})

SENSORS: list[dg.SensorDefinition] = [
    build_landing_sensor("files"), build_landing_sensor("logs"), AUTOMATION_SENSOR, run_failure_alert,
]
