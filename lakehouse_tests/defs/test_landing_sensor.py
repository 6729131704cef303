"""Landing sensors request bronze runs for exactly the new, late and rewritten files, across restarts."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from lakehouse.defs.automation import LOOKBACK_DAYS, LandingCursor, build_landing_sensor
from lakehouse.resources import Warehouse


def _warehouse(root: Path) -> Warehouse:
    return Warehouse(**{layer: str(root / layer) for layer in ("landing", "bronze", "silver", "gold", "quarantine")})


def _drop(root: Path, entity: str, day: str, name: str, body: str, mtime: float = 1_700_000_000.0) -> Path:
    path = root / "landing" / "files" / entity / f"ingestion_date={day}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    os.utime(path, (mtime, mtime))
    return path


def _tick(root: Path, cursor: str | None) -> tuple[list[tuple[str, list[str]]], str]:
    sensor = build_landing_sensor("files")
    with dg.build_sensor_context(cursor=cursor, resources={"warehouse": _warehouse(root)}) as context:
        result = sensor(context)
    runs = [(r.partition_key, sorted(k.to_user_string() for k in r.asset_selection)) for r in result.run_requests]
    return runs, result.cursor


def test_new_files_request_one_run_per_partition_with_the_changed_tables(tmp_path: Path) -> None:
    _drop(tmp_path, "part", "2024-01-01", "part-1.csv", "a")
    _drop(tmp_path, "nation", "2024-01-01", "nation-1.csv", "b")
    _drop(tmp_path, "part", "2024-01-02", "part-2.csv", "c")
    runs, _ = _tick(tmp_path, None)
    assert runs == [
        ("2024-01-01", ["bronze/files__nation", "bronze/files__part"]),
        ("2024-01-02", ["bronze/files__part"]),
    ]


def test_already_seen_files_request_nothing_even_after_a_restart(tmp_path: Path) -> None:
    _drop(tmp_path, "part", "2024-01-01", "part-1.csv", "a")
    _, cursor = _tick(tmp_path, None)
    runs, cursor_again = _tick(tmp_path, cursor)
    assert runs == []
    assert LandingCursor.parse(cursor_again) == LandingCursor.parse(cursor)


def test_late_file_for_the_previous_day_reruns_that_day(tmp_path: Path) -> None:
    _drop(tmp_path, "part", "2024-01-01", "part-1.csv", "a")
    _drop(tmp_path, "part", "2024-01-02", "part-2.csv", "b")
    _, cursor = _tick(tmp_path, None)
    _drop(tmp_path, "partsupp", "2024-01-01", "partsupp-late.csv", "late")
    runs, _ = _tick(tmp_path, cursor)
    assert runs == [("2024-01-01", ["bronze/files__partsupp"])]


def test_rewritten_file_reruns_its_partition(tmp_path: Path) -> None:
    _drop(tmp_path, "region", "2024-01-03", "region-1.csv", "v1")
    _, cursor = _tick(tmp_path, None)
    _drop(tmp_path, "region", "2024-01-03", "region-1.csv", "v2 longer", mtime=1_700_000_500.0)
    runs, _ = _tick(tmp_path, cursor)
    assert runs == [("2024-01-03", ["bronze/files__region"])]


def test_cursor_forgets_files_behind_the_lookback_window(tmp_path: Path) -> None:
    _drop(tmp_path, "part", "2024-01-01", "part-1.csv", "a")
    _drop(tmp_path, "part", f"2024-01-{2 + LOOKBACK_DAYS:02d}", "part-n.csv", "b")
    _, cursor = _tick(tmp_path, None)
    parsed = LandingCursor.parse(cursor)
    assert parsed.watermark == f"2024-01-{2 + LOOKBACK_DAYS:02d}"
    assert all("2024-01-01" not in uri for uri in parsed.files or {})
    runs, _ = _tick(tmp_path, cursor)
    assert runs == []
