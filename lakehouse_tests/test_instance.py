"""The local instance (`dagster.yaml`) queues runs: two at a time on a 2-core machine, landing-sensor runs one at a
time, and the automation's runs one at a time so silver applies ingestion days in order. Its event log is Dagster's
SQLite layout, which the stock storage reads back, with a bounded number of shards kept open."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.test_utils import create_run_for_test

from lakehouse.defs.automation import AUTOMATION_SENSOR, IN_ORDER_TAG, TRIGGER_TAG
from lakehouse.instance_storage import OPEN_RUN_SHARDS, LocalEventLogStorage

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


def test_the_event_log_keeps_few_shards_open_and_stock_dagster_reads_what_it_wrote(tmp_path: Path) -> None:
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, LocalEventLogStorage)
        runs = [create_run_for_test(instance, job_name="events") for _ in range(OPEN_RUN_SHARDS + 3)]
        for number, run in enumerate(runs):
            for step in range(number + 1):
                instance.report_engine_event(f"step {step}", run)
        open_runs = [name for name in storage._engines if name != INDEX_SHARD_NAME]
        assert open_runs == [run.run_id for run in runs[-OPEN_RUN_SHARDS:]], "only the most recent run shards stay open"
        written = {run.run_id: [e.user_message for e in instance.all_logs(run.run_id)] for run in runs}
    stock = SqliteEventLogStorage(str(home / "history" / "runs"))
    for number, run in enumerate(runs):
        read = [e.user_message for e in stock.get_logs_for_run(run.run_id)]
        assert read == written[run.run_id] and len(read) == number + 1
