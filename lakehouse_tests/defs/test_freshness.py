"""Gold marts carry a cron freshness policy; Dagster's freshness daemon, run over the code location, records a late
mart as failing, and `stale_marts_alert` publishes it through the metrics path."""

import shutil
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.freshness import FreshnessDaemon

from lakehouse.definitions import build_definitions
from lakehouse.defs.gold.freshness import GOLD_FRESHNESS, GOLD_KEYS, stale_marts_alert
from lakehouse.resources import LocalMetrics
from lakehouse.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
ON_TIME = datetime(2024, 3, 10, 3, 0, tzinfo=timezone.utc)
TOO_EARLY = datetime(2024, 3, 9, 23, 0, tzinfo=timezone.utc)
AFTER_DEADLINE = datetime(2024, 3, 10, 6, 30, tzinfo=timezone.utc)


def test_every_mart_is_due_by_its_cron_deadline_and_the_instance_evaluates_freshness(tmp_path: Path) -> None:
    graph = build_definitions(load_settings({"LAKEHOUSE_ROOT": str(tmp_path)})).resolve_asset_graph()
    assert {key for key in graph.get_all_asset_keys() if graph.get(key).freshness_policy == GOLD_FRESHNESS} == set(GOLD_KEYS)
    shutil.copyfile(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.freshness_enabled
        assert FreshnessDaemon.daemon_type() in instance.get_required_daemon_types()


def _evaluate_freshness(instance: dg.DagsterInstance) -> None:
    """One iteration of Dagster's own freshness daemon over the lakehouse code location, in process."""
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="lakehouse.definitions", attribute="defs", working_directory=str(REPO)),
        location_name="lakehouse",
    )
    with create_test_daemon_workspace_context(InProcessWorkspaceLoadTarget(origin), instance) as workspace:
        list(FreshnessDaemon().run_iteration(workspace))


def test_a_mart_built_before_its_window_alerts_as_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path))
    metrics = LocalMetrics(path=str(tmp_path / "metrics.jsonl"))
    on_time, late = GOLD_KEYS[0], GOLD_KEYS[1]
    with dg.instance_for_test() as instance:
        for key, when in ((on_time, ON_TIME), (late, TOO_EARLY)):
            with freeze_time(when):
                instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition="2024-03-09"))
        with freeze_time(AFTER_DEADLINE):
            _evaluate_freshness(instance)
            states = {k: r.freshness_state.value for k, r in instance.get_freshness_state_records(GOLD_KEYS).items()}
            assert states[on_time] == "PASS" and states[late] == "FAIL"
            assert {states[k] for k in GOLD_KEYS[2:]} == {"UNKNOWN"}, "never materialized: not known to be late"
            with dg.build_sensor_context(instance=instance, resources={"metrics": metrics}) as context:
                cursor = stale_marts_alert(context).cursor
        assert [(r["layer"], r["table"], r["values"]) for r in metrics.records()] == [("gold", "freshness", {"stale_marts": 1.0})]
        assert cursor == f'["{late.path[-1]}"]'

        with freeze_time(AFTER_DEADLINE):
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=late, partition="2024-03-09"))
            _evaluate_freshness(instance)
            with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"metrics": metrics}) as context:
                assert stale_marts_alert(context).cursor == "[]"
        assert metrics.records()[-1]["values"] == {"stale_marts": 0.0}, "recovery is published once"
