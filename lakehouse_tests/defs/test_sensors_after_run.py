"""After `lakehouse run`, the sensors of a first `make dev` (landing cursors empty, automation cursor empty) request
nothing tick after tick on the same instance, and one new landing file requests exactly its partition and table.

It reuses the session's `lakehouse run` (the default world) and only evaluates ticks: no run is launched, and the
one file it adds to that world's landing zone is removed again.
"""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.definitions.asset_daemon_cursor import AssetDaemonCursor

from lakehouse.definitions import build_definitions
from lakehouse.settings import load_settings
from lakehouse_tests.defs.ticks import automation_tick, landing_tick
from lakehouse_tests.fixtures.worlds import LakehouseRun

pytestmark = pytest.mark.slow
TICKS = 3


def _runs(requests: list[dg.RunRequest]) -> list[tuple[str, list[str]]]:
    return [(r.partition_key or "", sorted(k.to_user_string() for k in r.asset_selection or [])) for r in requests]


def test_sensors_after_lakehouse_run_request_nothing_then_exactly_a_new_file(lakehouse_run: LakehouseRun) -> None:
    done = lakehouse_run.result()
    assert done.returncode == 0, done.stderr[-6000:]
    root = lakehouse_run.root
    defs = build_definitions(load_settings({"LAKEHOUSE_ROOT": str(root)}))
    days = sorted(p.name.removeprefix("ingestion_date=") for p in (root / "landing" / "files" / "part").iterdir())
    cursors: dict[str, str | None] = {}
    cursor = AssetDaemonCursor.empty()
    with dg.DagsterInstance.from_config(str(root / "dagster")) as instance:
        for tick in range(TICKS):
            for source in ("files", "logs"):
                assert _runs(landing_tick(defs, instance, source, cursors)) == [], (tick, source)
            requested, cursor = automation_tick(defs, instance, cursor)
            assert _runs(requested) == [], tick

        fresh: dict[str, str | None] = {}  # the lake as a sensor deployed now sees it: empty cursors again
        extra = root / "landing" / "files" / "part" / f"ingestion_date={days[1]}" / "part-extra.csv"
        extra.write_text("P_PARTKEY|P_NAME\n")
        try:
            assert _runs(landing_tick(defs, instance, "files", fresh)) == [(days[1], ["bronze/files__part"])]
            assert _runs(landing_tick(defs, instance, "files", cursors)) == [(days[1], ["bronze/files__part"])]
            assert _runs(landing_tick(defs, instance, "logs", cursors)) == []
        finally:
            extra.unlink()
        requested, cursor = automation_tick(defs, instance, cursor)
        assert _runs(requested) == []
