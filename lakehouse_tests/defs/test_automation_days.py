"""Sensors and automation alone, fed the simulator's days one by one, end where `lakehouse run` ends; so does a
three-date backfill, in one run per asset, on the other engine.

One simulated world (TPC-H SF 0.01, three ingestion days) is held three ways: the session's `lakehouse run` on DuckDB
(shared with the truth test) and the session's `dagster asset materialize --partition-range` backfill on Spark, as
subprocesses (fixtures/worlds.py), while this process delivers each day to the landing zone and launches only what the
landing sensors, the extraction schedule and the automation sensor request, asserting at every tick exactly which runs
and partitions they request.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.asset_daemon_cursor import AssetDaemonCursor

from glue_scripts.common.specs import BRONZE_SPECS
from lakehouse.definitions import build_definitions
from lakehouse.defs.automation import EXTRACT_JOB, EXTRACT_SCHEDULE, IN_ORDER_TAG
from lakehouse.settings import load_settings
from lakehouse.sources import DEFAULT_SEED, deliver, simulate
from lakehouse_tests.defs.ticks import automation_tick, landing_tick
from lakehouse_tests.fixtures.layers import assert_same_layers
from lakehouse_tests.fixtures.worlds import DAYS, LOCAL_INSTANCE, SCALE_FACTOR, BackfillRun, LakehouseRun

pytestmark = pytest.mark.slow
Run = tuple[str, frozenset[str]]


@dataclass
class Worlds:
    """Copies of one world: the sensors' (this process) and the session's `lakehouse run`."""

    sensors: Path
    days: list[str]
    manifest: dict
    reference_run: LakehouseRun

    @property
    def reference(self) -> Path:
        """The root of the session's `lakehouse run` (the same seed, scale factor and days)."""
        return self.reference_run.root

    def reference_finished(self) -> None:
        """Wait for the session's `lakehouse run`; fail the test with its log's tail if it failed."""
        _finished(self.reference_run)


def _finished(run: LakehouseRun | BackfillRun) -> str:
    """Wait for a session world; its log when it succeeded, else fail the test with the log's tail."""
    done = run.result()
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory, lakehouse_run: LakehouseRun) -> Worlds:
    sensors = tmp_path_factory.mktemp("worlds") / "sensors"
    manifest = simulate(sensors, sf=float(SCALE_FACTOR), days=DAYS, seed=DEFAULT_SEED, stage_only=True, progress=False)
    return Worlds(sensors, list(manifest["days"]), manifest, lakehouse_run)


def _keys(keys: Sequence[dg.AssetKey]) -> frozenset[str]:
    return frozenset(k.to_user_string() for k in keys)


def _schedule_tick(instance: dg.DagsterInstance, day: str) -> list[dg.RunRequest]:
    """The extraction schedule's tick at 01:00 UTC the day after `day`."""
    at = datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(1), tzinfo=UTC)
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=at) as context:
        result = EXTRACT_SCHEDULE(context)
    return list(result) if isinstance(result, list) else [result]


def _launch(defs: dg.Definitions, instance: dg.DagsterInstance, requests: list[dg.RunRequest]) -> None:
    """Execute requested runs in process, in the order they were requested; each must succeed."""
    for request in requests:
        if request.job_name:
            job, selection = defs.resolve_job_def(request.job_name), None
        else:
            job, selection = defs.resolve_implicit_global_asset_job_def(), list(request.asset_selection)
        result = job.execute_in_process(instance=instance, partition_key=request.partition_key, asset_selection=selection,
                                        tags=dict(request.tags), raise_on_error=False)
        assert result.success, f"run for {request.partition_key} {selection} failed"


def _landed(paths: list[Path], root: Path, source: str) -> set[Run]:
    """The (ingestion date, bronze tables) of `source` a delivery touched, from the delivered files' landing paths."""
    touched: dict[str, set[str]] = {}
    for path in paths:
        system, entity, folder = path.relative_to(root / "landing").parts[:3]
        if system == source:
            table = next(s.name for s in BRONZE_SPECS if s.source == source and s.entity == entity)
            touched.setdefault(folder.removeprefix("ingestion_date="), set()).add(f"bronze/{table}")
    return {(day, frozenset(tables)) for day, tables in touched.items()}


def _runs(requests: list[dg.RunRequest]) -> set[Run]:
    return {(r.partition_key or "", _keys(r.asset_selection or [])) for r in requests}


def test_sensors_and_automation_alone_end_with_the_silver_and_gold_of_lakehouse_run(worlds: Worlds) -> None:
    root = worlds.sensors
    defs = build_definitions(load_settings({"LAKEHOUSE_ROOT": str(root)}))
    graph = defs.resolve_asset_graph()
    downstream = {k.to_user_string() for k in graph.get_all_asset_keys() if k.path[0] != "bronze"}
    after_late_partsupp = _keys(list(dg.AssetSelection.assets(["silver", "partsupp"]).downstream().resolve(graph)))
    extract = frozenset(f"bronze/{s.name}" for s in BRONZE_SPECS if s.source in ("db", "api"))
    late = {f["arrival_day"]: f["ingestion_date"] for f in worlds.manifest["late_files"]}
    assert late, "the simulated world has a late partsupp file"
    cursors: dict[str, str | None] = {}
    cursor = AssetDaemonCursor.empty()
    (root / "dagster").mkdir(exist_ok=True)
    with dg.instance_for_test(temp_dir=str(root / "dagster"), overrides=LOCAL_INSTANCE) as instance:
        idle, cursor = automation_tick(defs, instance, cursor)
        assert idle == [], "the automation sensor is running before the first delivery and requests nothing"
        for day in worlds.days:
            landed = deliver(root, day)
            files = landing_tick(defs, instance, "files", cursors)
            logs = landing_tick(defs, instance, "logs", cursors)
            assert _runs(files) == _landed(landed, root, "files")
            assert _runs(logs) == _landed(landed, root, "logs")
            assert {(day, frozenset({"bronze/logs__web_access"}))} == _runs(logs)
            expected_files = {(day, frozenset(f"bronze/{s.name}" for s in BRONZE_SPECS if s.source == "files"))}
            if day in late:
                expected_files.add((late[day], frozenset({"bronze/files__partsupp"})))
            assert _runs(files) == expected_files
            scheduled = _schedule_tick(instance, day)
            assert [(r.partition_key, r.job_name) for r in scheduled] == [(day, EXTRACT_JOB.name)]
            _launch(defs, instance, files + logs + scheduled)
            assert landing_tick(defs, instance, "files", cursors) == []

            requested, cursor = automation_tick(defs, instance, cursor)
            expected = {(day, frozenset(downstream))}
            if day in late:
                expected.add((late[day], after_late_partsupp))
            assert _runs(requested) == expected
            assert [r.partition_key for r in requested] == sorted(r.partition_key for r in requested)
            assert all(r.tags.get(IN_ORDER_TAG) == "true" for r in requested)
            _launch(defs, instance, requested)
            # The sensor keeps ticking: once its runs finished, the day has settled and it requests nothing more.
            settled, cursor = automation_tick(defs, instance, cursor)
            assert settled == []
        for key in extract:
            assert instance.get_materialized_partitions(dg.AssetKey.from_user_string(key)) == set(worlds.days), key

    worlds.reference_finished()
    assert_same_layers(root, worlds.reference)


def test_three_date_backfill_is_one_run_per_asset_with_the_data_of_day_by_day_runs(
        spark_backfill: BackfillRun, lakehouse_run: LakehouseRun) -> None:
    log = _finished(spark_backfill)
    assert "RUN_SUCCESS" in log
    _finished(lakehouse_run)
    days = spark_backfill.days
    assert days == json.loads((lakehouse_run.root / "sources" / "manifest.json").read_text())["days"]
    defs = build_definitions(load_settings({"LAKEHOUSE_ROOT": str(spark_backfill.root)}))
    with dg.DagsterInstance.from_config(str(spark_backfill.root / "dagster")) as instance:
        runs = instance.get_runs()
        assert len(runs) == 1
        run = runs[0]
        assert run.tags["dagster/asset_partition_range_start"] == days[0]
        assert run.tags["dagster/asset_partition_range_end"] == days[-1]
        for key in defs.resolve_asset_graph().get_all_asset_keys():
            records = [instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]),
                                                       limit=5).records for day in days]
            assert [len(r) for r in records] == [1] * DAYS, key
            assert {r[0].run_id for r in records} == {run.run_id}, key
            glue_runs = {r[0].asset_materialization.metadata.get("glue_job_run_id") for r in records}
            assert len(glue_runs) == 1, f"{key.to_user_string()} ran {len(glue_runs)} Glue jobs"
    # Day by day, a lineitem whose order arrives a day late is held, then released by the next day's batch and
    # stored in that day's partition; a range run merges every day of orders before lineitem, so the row is valid
    # at once and stays in its own day's partition. The rows, with their `_ingestion_date`, are the same.
    assert_same_layers(spark_backfill.root, lakehouse_run.root, same_partitions=False)
