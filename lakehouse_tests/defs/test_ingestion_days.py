"""The ingestion-day partitions match the world: locally the simulated days (the default world's before one exists),
on aws from LAKEHOUSE_START_DATE to the latest complete day; the extraction schedule skips days that are not
partitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.defs.automation import EXTRACT_JOB, EXTRACT_SCHEDULE
from lakehouse.defs.common import INGESTION_DAYS, ingestion_days
from lakehouse.settings import DEFAULT_START_DATE, DEFAULT_WORLD_DAYS, SettingsError, load_calendar, load_settings


def _world(root: Path, days: list[str]) -> Path:
    (root / "sources").mkdir(parents=True)
    (root / "sources" / "manifest.json").write_text(json.dumps({"days": days, "start_date": days[0]}))
    return root


def test_local_partitions_are_the_simulated_days_and_nothing_missing_up_to_today(tmp_path: Path) -> None:
    root = _world(tmp_path, ["2025-03-30", "2025-03-31", "2025-04-01", "2025-04-02", "2025-04-03"])
    days = ingestion_days(load_calendar({"LAKEHOUSE_ROOT": str(root)}))
    assert days.get_partition_keys() == ["2025-03-30", "2025-03-31", "2025-04-01", "2025-04-02", "2025-04-03"]


UNREADABLE = [None, "{not json", json.dumps({"days": []}), json.dumps({"days": ["2024-13-45"]})]


@pytest.mark.parametrize("manifest", UNREADABLE)
def test_without_a_readable_world_the_partitions_are_the_default_worlds_days(
    tmp_path: Path, manifest: str | None
) -> None:
    if manifest is not None:
        (tmp_path / "sources").mkdir()
        (tmp_path / "sources" / "manifest.json").write_text(manifest)
    keys = ingestion_days(load_calendar({"LAKEHOUSE_ROOT": str(tmp_path)})).get_partition_keys()
    assert keys[0] == DEFAULT_START_DATE and len(keys) == DEFAULT_WORLD_DAYS


def test_aws_partitions_start_at_the_configured_date_and_run_to_yesterday(tmp_path: Path) -> None:
    start = (datetime.now(UTC).date() - timedelta(days=10)).isoformat()
    keys = ingestion_days(load_calendar({"LAKEHOUSE_ENV": "aws", "LAKEHOUSE_START_DATE": start,
                                         "LAKEHOUSE_ROOT": str(_world(tmp_path, ["2024-01-01"]))})).get_partition_keys()
    assert keys[0] == start and len(keys) == 10
    assert keys[-1] == (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


@pytest.mark.parametrize("value", ["2024-13-45", "01/02/2024", "soon"])
def test_a_malformed_start_date_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="LAKEHOUSE_START_DATE"):
        load_settings({"LAKEHOUSE_ENV": "local", "LAKEHOUSE_START_DATE": value})


def _scheduled(day: str) -> dg.RunRequest | dg.SkipReason:
    """The extraction schedule's tick at 01:00 UTC the day after `day`."""
    at = datetime.fromisoformat(day).replace(hour=1, tzinfo=UTC) + timedelta(days=1)
    with dg.build_schedule_context(scheduled_execution_time=at) as context:
        return EXTRACT_SCHEDULE(context)


def test_the_extraction_schedule_extracts_the_day_before_its_tick_and_skips_days_that_are_not_partitions() -> None:
    last = INGESTION_DAYS.get_last_partition_key()
    requested = _scheduled(last)
    assert isinstance(requested, dg.RunRequest)
    assert (requested.partition_key, requested.job_name) == (last, EXTRACT_JOB.name)
    skipped = _scheduled((datetime.fromisoformat(last) + timedelta(days=1)).date().isoformat())
    assert isinstance(skipped, dg.SkipReason) and "not an ingestion day" in (skipped.skip_message or "")
