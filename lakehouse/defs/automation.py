"""Sensors and schedules: landing sensors start bronze runs for new files; a daily schedule extracts db and api.

Landing sensors keep a cursor of (size, mtime) fingerprints for the partitions inside a lookback window
behind the newest ingestion date seen, so late files (day k for day k-1) and rewritten files are caught,
while each tick lists only the partition folders plus the files of the recent partitions.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from glue_scripts.common.specs import BRONZE_SPECS
from lakehouse.defs.common import INGESTION_DAYS
from lakehouse.resources import Metrics, Warehouse

LOOKBACK_DAYS = 3
PARTITION_PREFIX = "ingestion_date="


@dataclass(frozen=True)
class LandingCursor:
    """The newest ingestion date seen and the fingerprints of files in the lookback window."""

    watermark: str = ""
    files: dict[str, str] | None = None

    @staticmethod
    def parse(raw: str | None) -> "LandingCursor":
        """Read a cursor string; an empty one means nothing seen yet."""
        data = json.loads(raw) if raw else {}
        return LandingCursor(data.get("watermark", ""), data.get("files", {}))

    def dump(self) -> str:
        """The cursor as a compact JSON string."""
        return json.dumps({"watermark": self.watermark, "files": dict(sorted((self.files or {}).items()))}, separators=(",", ":"))


def window_start(watermark: str) -> str:
    """The oldest ingestion date still watched for late or rewritten files."""
    return (date.fromisoformat(watermark) - timedelta(days=LOOKBACK_DAYS)).isoformat() if watermark else ""


def plan_landing_runs(
    listing: dict[tuple[str, str], dict[str, str]], cursor: LandingCursor
) -> tuple[dict[str, list[str]], LandingCursor]:
    """From {(table, day): {uri: fingerprint}} of watched partitions, the tables to run per day and the next cursor."""
    seen = cursor.files or {}
    changed: dict[str, set[str]] = {}
    for (table, day), files in listing.items():
        if any(seen.get(uri) != fingerprint for uri, fingerprint in files.items()):
            changed.setdefault(day, set()).add(table)
    days = [day for _, day in listing] + ([cursor.watermark] if cursor.watermark else [])
    watermark = max(days) if days else ""
    start = window_start(watermark)
    kept = {uri: fp for files in listing.values() for uri, fp in files.items()}
    kept = {uri: fp for uri, fp in kept.items() if _day_of(uri) >= start}
    return {day: sorted(tables) for day, tables in sorted(changed.items())}, LandingCursor(watermark, kept)


def _day_of(uri: str) -> str:
    segment = next((s for s in uri.split("/") if s.startswith(PARTITION_PREFIX)), "")
    return segment.removeprefix(PARTITION_PREFIX)


def _digest(files: dict[str, dict[str, str]]) -> str:
    return hashlib.sha1(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def list_landing(warehouse: Warehouse, source: str, cursor: LandingCursor) -> dict[tuple[str, str], dict[str, str]]:
    """Fingerprints of the files in each watched landing partition of a source's entities."""
    start = window_start(cursor.watermark)
    listing: dict[tuple[str, str], dict[str, str]] = {}
    for spec in (s for s in BRONZE_SPECS if s.source == source):
        prefix = f"{source}/{spec.entity}"
        for folder in warehouse.list_dirs("landing", prefix):
            day = folder.removeprefix(PARTITION_PREFIX)
            if not folder.startswith(PARTITION_PREFIX) or day < start:
                continue
            files = {f.uri: f"{f.size}:{f.mtime:.6f}" for f in warehouse.list_files("landing", f"{prefix}/{folder}")}
            if files:
                listing[(spec.name, day)] = files
    return listing


def build_landing_sensor(source: str) -> dg.SensorDefinition:
    """A sensor that requests bronze runs for the partitions where `source`'s landing files appeared or changed."""

    @dg.sensor(
        name=f"landing_{source}_sensor",
        minimum_interval_seconds=30,
        asset_selection=[dg.AssetKey(["bronze", s.name]) for s in BRONZE_SPECS if s.source == source],
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Starts bronze runs for new, late or rewritten {source} files in the landing zone.",
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: Warehouse) -> dg.SensorResult:
        cursor = LandingCursor.parse(context.cursor)
        listing = list_landing(warehouse, source, cursor)
        plan, next_cursor = plan_landing_runs(listing, cursor)
        valid = set(INGESTION_DAYS.get_partition_keys())
        requests = [
            dg.RunRequest(
                run_key=f"{source}:{day}:{_digest({t: listing[(t, day)] for t in tables})}",
                partition_key=day,
                asset_selection=[dg.AssetKey(["bronze", table]) for table in tables],
                tags={"trigger": f"landing_{source}"},
            )
            for day, tables in plan.items()
            if day in valid
        ]
        skipped = sorted(set(plan) - valid)
        if skipped:
            context.log.warning(f"landing {source}: ignoring folders outside the ingestion calendar: {skipped}")
        return dg.SensorResult(run_requests=requests, cursor=next_cursor.dump())

    return _sensor


EXTRACT_JOB = dg.define_asset_job(
    "extract_db_and_api",
    selection=[dg.AssetKey(["bronze", s.name]) for s in BRONZE_SPECS if s.source in ("db", "api")],
    partitions_def=INGESTION_DAYS,
    description="Watermark extraction of the database and the CRM API for one ingestion date.",
)

EXTRACT_SCHEDULE = dg.build_schedule_from_partitioned_job(
    EXTRACT_JOB, hour_of_day=1, minute_of_hour=0, default_status=dg.DefaultScheduleStatus.RUNNING
)

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
