"""The local instance (`dagster.yaml`) queues runs: two at a time on a 2-core machine, landing-sensor runs one at a
time, and the automation's runs one at a time so silver applies ingestion days in order."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
from dagster._core.run_coordinator import QueuedRunCoordinator

from lakehouse.defs.automation import AUTOMATION_SENSOR, IN_ORDER_TAG, TRIGGER_TAG

REPO = Path(__file__).resolve().parents[1]


def test_the_local_instance_queues_runs_within_its_limits(tmp_path: Path) -> None:
    shutil.copyfile(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        config = instance.get_concurrency_config()
        assert config.run_queue_config.max_concurrent_runs == 2
        limits = {limit["key"]: limit["limit"] for limit in config.run_queue_config.tag_concurrency_limits}
        assert limits == {IN_ORDER_TAG: 1, TRIGGER_TAG: 1}
        assert config.pool_config.default_pool_limit == 2
    assert AUTOMATION_SENSOR.run_tags == {IN_ORDER_TAG: "true"}
    assert not AUTOMATION_SENSOR.emit_backfills
