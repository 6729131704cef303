"""Runs submitted together, as the UI, backfills and sensors submit them, all succeed on the local instance built from
the repository's dagster.yaml (SQLite storage): the daemon's run queue starts them in their own processes no more
than `max_concurrent_runs` at a time, and no event, compute log or process output says "database is locked"."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.storage.tags import PARTITION_NAME_TAG
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon
from dagster.version import __version__ as dagster_version

from lakehouse.launch import DAILY_JOB_NAME, LOCATION, WORKSPACE_FILE
from lakehouse_tests.glue_scripts.helpers import land

REPO = Path(__file__).resolve().parents[1]
LOCKED = "database is locked"
FILES = {
    "region": "r_regionkey,r_name,r_comment,updated_at\n0,AFRICA,x,{day} 00:00:00\n1,AMERICA,y,{day} 01:00:00\n",
    "nation": "n_nationkey,n_name,n_regionkey,n_comment,updated_at\n0,ALGERIA,0,x,{day} 00:00:00\n",
}
# One run more than the queue's two slots: the third waits in the queue until one of the first two has finished.
RUNS = (("region", "2024-01-01"), ("region", "2024-01-02"), ("nation", "2024-01-01"))
DEADLINE_SECONDS = 900  # a guard against a hung run, not a speed goal


def _submit(context: WorkspaceProcessContext, table: str, day: str) -> str:
    """Submit a run of one bronze asset's partition of the code location's daily job to the run coordinator."""
    workspace = context.create_request_context()
    location = workspace.get_code_location(LOCATION)
    (repository,) = location.get_repositories().values()
    key = dg.AssetKey(["bronze", f"files__{table}"])
    job = location.get_job(JobSubsetSelector(
        location_name=LOCATION, repository_name=repository.name, job_name=DAILY_JOB_NAME, op_selection=None,
        asset_selection={key}, asset_check_selection=None))
    plan = location.get_execution_plan(job, {}, step_keys_to_execute=None, known_state=None,
                                       instance=context.instance).execution_plan_snapshot
    run = context.instance.create_run(
        job_name=job.name, run_id=None, run_config={}, resolved_op_selection=None,
        step_keys_to_execute=plan.step_keys_to_execute, op_selection=None, status=None, root_run_id=None,
        parent_run_id=None, tags={**job.tags, PARTITION_NAME_TAG: day}, job_snapshot=job.job_snapshot,
        execution_plan_snapshot=plan, parent_job_snapshot=job.parent_job_snapshot,
        remote_job_origin=job.get_remote_origin(), job_code_origin=job.get_python_origin(),
        asset_selection=frozenset({key}), asset_check_selection=None, asset_graph=repository.asset_graph)
    return context.instance.submit_run(run.run_id, workspace).run_id


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    """The most (start, end) spans open at the same moment; an end frees its slot before a start at that moment."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def _dequeue_until_finished(context: WorkspaceProcessContext, run_ids: list[str]) -> list[dg.RunRecord]:
    """Tick the daemon's run queue, as `dagster dev`'s daemon does, until every run has finished."""
    instance = context.instance
    started = time.monotonic()
    with QueuedRunCoordinatorDaemon(interval_seconds=1) as daemon:
        while True:
            records = [instance.get_run_record_by_id(run_id) for run_id in run_ids]
            if all(r.dagster_run.is_finished for r in records):
                return records
            assert time.monotonic() - started < DEADLINE_SECONDS, [r.dagster_run.status for r in records]
            list(daemon.run_iteration(context))
            time.sleep(0.5)


def test_runs_submitted_together_queue_within_the_limit_and_never_lock_the_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name in [n for n in os.environ if n.startswith(("LAKEHOUSE_", "DAGSTER_"))]:
        monkeypatch.delenv(name)
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for table, text in FILES.items():
        for day in [d for t, d in RUNS if t == table]:
            land(tmp_path / "landing", "files", table, f"{table}.csv", text.format(day=day), day=day)
    caplog.set_level(logging.INFO)

    with dg.DagsterInstance.get() as instance, WorkspaceProcessContext(
        instance, WorkspaceFileTarget(paths=[str(WORKSPACE_FILE)]), version=dagster_version
    ) as context:
        limit = instance.get_concurrency_config().run_queue_config.max_concurrent_runs
        run_ids = [_submit(context, table, day) for table, day in RUNS]
        assert len(run_ids) > limit
        assert {instance.get_run_by_id(r).status for r in run_ids} == {dg.DagsterRunStatus.QUEUED}
        records = _dequeue_until_finished(context, run_ids)
        events = [e for run_id in run_ids for e in instance.all_logs(run_id)]

    assert [r.dagster_run.status for r in records] == [dg.DagsterRunStatus.SUCCESS] * len(run_ids)
    started = [(r.start_time, r.end_time) for r in records]
    assert _most_at_once(started) <= limit, "never more runs in STARTED than the queue allows"
    starting = {e.run_id: e.timestamp for e in events if e.dagster_event_type == dg.DagsterEventType.RUN_STARTING}
    in_flight = [(starting[r.dagster_run.run_id], r.end_time) for r in records]
    assert _most_at_once(in_flight) == limit, "the daemon launched runs side by side, up to the limit and no more"
    locked_events = [e for e in events if LOCKED in (e.message or "") or LOCKED in str(e.dagster_event or "")]
    assert locked_events == []
    compute_logs = [p for p in (home / "storage").rglob("*") if p.is_file() and p.suffix in (".out", ".err")]
    assert compute_logs, "the run workers' compute logs were captured"
    assert [p for p in compute_logs if LOCKED in p.read_text(errors="replace")] == []
    out, err = capfd.readouterr()
    assert LOCKED not in out + err + caplog.text, "code server, run workers and daemon output"
