"""Landing sensors request bronze runs for exactly the new, late and rewritten files, across restarts, and survive
any folder in the landing zone: bad names, future dates, days outside the partitions and nested sub-folders are
reported on the tick and skipped, never raised and never moving the cursor's watermark."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.defs.automation import (
    LOOKBACK_DAYS, LandingCursor, LandingListing, build_landing_sensor, plan_landing_runs,
)
from lakehouse.defs.common import INGESTION_DAYS
from lakehouse.defs.landing import FUTURE_TOLERANCE_DAYS, fingerprint, partition_files, read_folder
from lakehouse.resources import Warehouse

DAY_1, DAY_2, DAY_3 = INGESTION_DAYS.get_partition_keys()[:3]


@pytest.fixture(scope="module")
def instance() -> dg.DagsterInstance:
    """One in-memory instance with no materializations, shared by the ticks that need none."""
    return dg.DagsterInstance.ephemeral()


def _warehouse(root: Path) -> Warehouse:
    return Warehouse(**{layer: str(root / layer) for layer in ("landing", "bronze", "silver", "gold", "quarantine")})


def _drop(root: Path, entity: str, folder: str, name: str, body: str, mtime: float = 1_700_000_000.0) -> Path:
    path = root / "landing" / "files" / entity / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    os.utime(path, (mtime, mtime))
    return path


def _day(root: Path, entity: str, day: str, name: str, body: str, mtime: float = 1_700_000_000.0) -> Path:
    return _drop(root, entity, f"ingestion_date={day}", name, body, mtime)


def _evaluate(root: Path, cursor: str | None,
              instance: dg.DagsterInstance) -> tuple[list[tuple[str, list[str]]], dg.SensorResult]:
    sensor = build_landing_sensor("files")
    resources = {"warehouse": _warehouse(root)}
    with dg.build_sensor_context(cursor=cursor, resources=resources, instance=instance) as context:
        result = sensor(context)
    runs = [(r.partition_key, sorted(k.to_user_string() for k in r.asset_selection)) for r in result.run_requests]
    return runs, result


def _tick(root: Path, cursor: str | None, instance: dg.DagsterInstance) -> tuple[list[tuple[str, list[str]]], str]:
    runs, result = _evaluate(root, cursor, instance)
    return runs, result.cursor


def test_new_files_request_one_run_per_partition_with_the_changed_tables(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    _day(tmp_path, "part", DAY_1, "part-1.csv", "a")
    _day(tmp_path, "nation", DAY_1, "nation-1.csv", "b")
    _day(tmp_path, "part", DAY_2, "part-2.csv", "c")
    runs, _ = _tick(tmp_path, None, instance)
    assert runs == [
        (DAY_1, ["bronze/files__nation", "bronze/files__part"]),
        (DAY_2, ["bronze/files__part"]),
    ]


def test_already_seen_files_request_nothing_even_after_a_restart(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    _day(tmp_path, "part", DAY_1, "part-1.csv", "a")
    _, cursor = _tick(tmp_path, None, instance)
    runs, cursor_again = _tick(tmp_path, cursor, instance)
    assert runs == []
    assert LandingCursor.parse(cursor_again) == LandingCursor.parse(cursor)


def test_late_file_for_the_previous_day_reruns_that_day(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    _day(tmp_path, "part", DAY_1, "part-1.csv", "a")
    _day(tmp_path, "part", DAY_2, "part-2.csv", "b")
    _, cursor = _tick(tmp_path, None, instance)
    _day(tmp_path, "partsupp", DAY_1, "partsupp-late.csv", "late")
    runs, _ = _tick(tmp_path, cursor, instance)
    assert runs == [(DAY_1, ["bronze/files__partsupp"])]


def test_rewritten_file_reruns_its_partition(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    _day(tmp_path, "region", DAY_3, "region-1.csv", "v1")
    _, cursor = _tick(tmp_path, None, instance)
    _day(tmp_path, "region", DAY_3, "region-1.csv", "v2 longer", mtime=1_700_000_500.0)
    runs, _ = _tick(tmp_path, cursor, instance)
    assert runs == [(DAY_3, ["bronze/files__region"])]


def test_cursor_forgets_partitions_behind_the_lookback_window() -> None:
    old, new = "2024-01-01", (date(2024, 1, 2) + timedelta(days=LOOKBACK_DAYS)).isoformat()
    listing = LandingListing({("files__part", old): {"a.csv": "1:1.0"}, ("files__part", new): {"b.csv": "1:1.0"}})
    plan, cursor = plan_landing_runs(listing, LandingCursor())
    assert plan == {old: ["files__part"], new: ["files__part"]}
    assert cursor.watermark == new
    assert list(cursor.partitions) == [f"files__part/{new}"]
    assert plan_landing_runs(LandingListing({("files__part", new): {"b.csv": "1:1.0"}}), cursor)[0] == {}


def test_partitions_bronze_already_ingested_are_not_requested_with_an_empty_cursor(tmp_path: Path) -> None:
    _day(tmp_path, "part", DAY_1, "part-1.csv", "a")
    _day(tmp_path, "part", DAY_2, "part-2.csv", "b")
    warehouse = _warehouse(tmp_path)
    ingested = fingerprint(partition_files(warehouse, "files", "part", DAY_1))
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(
            asset_key=["bronze", "files__part"], partition=DAY_1, metadata={"landing_fingerprint": {DAY_1: ingested}}))
        runs, result = _evaluate(tmp_path, None, instance)
        assert runs == [(DAY_2, ["bronze/files__part"])]
        assert set(LandingCursor.parse(result.cursor).partitions) == {f"files__part/{DAY_1}", f"files__part/{DAY_2}"}
        # A file added after that materialization makes the day differ from what bronze ingested: requested again.
        _day(tmp_path, "part", DAY_1, "part-late.csv", "late")
        runs, _ = _evaluate(tmp_path, None, instance)
        assert runs == [(DAY_1, ["bronze/files__part"]), (DAY_2, ["bronze/files__part"])]


@pytest.mark.parametrize("folder, problem", [
    ("ingestion_date=2024-13-45", "not a valid calendar date"),
    ("ingestion_date=2024-1-2", "not a YYYY-MM-DD date"),
    ("ingestion_date=20240102", "not a YYYY-MM-DD date"),
    ("ingestion_date=٢٠٢٤-٠١-٠٢", "not a YYYY-MM-DD date"),
    ("ingestion_date=*", "not a YYYY-MM-DD date"),
    ("ingestion_date=2099-01-01", "after today"),
    ("2024-01-02", "not an ingestion_date=YYYY-MM-DD folder"),
    ("ingestion_date=1999-01-01", "not an ingestion day of this deployment"),
])
def test_a_bad_folder_is_reported_and_skipped_while_good_ones_are_requested(
    tmp_path: Path, instance: dg.DagsterInstance, folder: str, problem: str
) -> None:
    _drop(tmp_path, "part", folder, "part-x.csv", "x")
    _day(tmp_path, "part", DAY_1, "part-1.csv", "a")
    runs, result = _evaluate(tmp_path, None, instance)
    assert runs == [(DAY_1, ["bronze/files__part"])]
    assert LandingCursor.parse(result.cursor).watermark == DAY_1
    _, again = _evaluate(tmp_path, result.cursor, instance)
    assert again.run_requests == []
    assert problem in again.skip_reason.skip_message and repr(folder) in again.skip_reason.skip_message


def test_a_far_future_folder_does_not_move_the_watermark_so_new_days_are_still_requested(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    _day(tmp_path, "part", DAY_1, "part-1.csv", "a")
    _day(tmp_path, "part", "2099-01-01", "part-future.csv", "f")
    _, cursor = _tick(tmp_path, None, instance)
    assert LandingCursor.parse(cursor).watermark == DAY_1
    _day(tmp_path, "part", DAY_2, "part-2.csv", "b")
    runs, _ = _tick(tmp_path, cursor, instance)
    assert runs == [(DAY_2, ["bronze/files__part"])]


def test_a_cursor_already_moved_to_a_far_future_watermark_is_repaired(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    _day(tmp_path, "part", DAY_2, "part-2.csv", "b")
    moved = LandingCursor("2099-01-01", {}).dump()
    assert LandingCursor.parse(moved).watermark == ""
    runs, cursor = _tick(tmp_path, moved, instance)
    assert runs == [(DAY_2, ["bronze/files__part"])] and LandingCursor.parse(cursor).watermark == DAY_2


def test_todays_folder_waits_for_its_partition_without_a_report(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    _day(tmp_path, "part", datetime.now(UTC).date().isoformat(), "part-today.csv", "t")
    runs, result = _evaluate(tmp_path, None, instance)
    assert runs == [] and "reported" not in (result.skip_reason.skip_message or "")
    assert LandingCursor.parse(result.cursor) == LandingCursor()


def test_future_tolerance_takes_tomorrow_and_refuses_the_day_after() -> None:
    today = datetime.now(UTC).date()
    within = today + timedelta(days=FUTURE_TOLERANCE_DAYS)
    assert read_folder(f"ingestion_date={within.isoformat()}", today).day == within.isoformat()
    beyond = read_folder(f"ingestion_date={(within + timedelta(days=1)).isoformat()}", today)
    assert beyond.day == "" and "after today" in beyond.problem


def test_a_nested_sub_folder_is_reported_and_its_partition_still_requested(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    _day(tmp_path, "part", DAY_1, "part-1.csv", "a")
    _day(tmp_path, "part", DAY_1, "extra/part-2.csv", "b")
    runs, result = _evaluate(tmp_path, None, instance)
    assert runs == [(DAY_1, ["bronze/files__part"])]
    _, again = _evaluate(tmp_path, result.cursor, instance)
    assert "nested sub-folder 'extra' is not read by bronze" in again.skip_reason.skip_message


def test_the_sensor_description_names_its_source_once() -> None:
    description = build_landing_sensor("files").description or ""
    assert "files files" not in description and "`files`" in description
