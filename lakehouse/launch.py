"""Runs of the code location's `lakehouse_daily` job on the instance: created as the UI and `dagster job launch`
create them (the code location's origin, snapshots and tags), executed in this process as a run worker would.

`lakehouse run` executes its days one after another, so one process that has loaded the definitions, DuckDB and
dagster-snowflake once runs them all: a run worker per day would pay its start-up (about 4 s idle, 25 s under
load) and the Snowflake client's import (about 5 s) again for every day.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.remote_representation.code_location import CodeLocation
from dagster._core.snap import ExecutionPlanSnapshot
from dagster._core.remote_representation.external import RemoteJob, RemoteRepository
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.storage.tags import RUN_FAILURE_REASON_TAG
from dagster._core.workspace.context import WorkspaceProcessContext, WorkspaceRequestContext
from dagster._core.events import RunFailureReason
from dagster._core.execution.api import execute_run
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster._utils.hosted_user_process import recon_job_from_origin
from dagster.version import __version__ as dagster_version

WORKSPACE_FILE = Path(__file__).resolve().parents[1] / "workspace.yaml"
LOCATION = "lakehouse"
DAILY_JOB_NAME = "lakehouse_daily"
POLL_SECONDS = 0.5
LAUNCHED_BY = {"lakehouse/launched_by": "lakehouse run"}


class LaunchError(RuntimeError):
    """The code location could not be loaded, so no run was launched."""


@dataclass
class LocationJob:
    """A job of the loaded code location, with what it takes to create and launch its runs."""

    workspace: WorkspaceRequestContext
    location: CodeLocation
    repository: RemoteRepository
    job: RemoteJob
    plan: ExecutionPlanSnapshot

    @property
    def step_keys(self) -> list[str]:
        """The keys of the steps every run of the job executes."""
        return list(self.plan.step_keys_to_execute)


@contextmanager
def location_job(instance: dg.DagsterInstance, job_name: str = DAILY_JOB_NAME) -> Iterator[LocationJob]:
    """Load workspace.yaml (its code server runs while the context is open) and yield the job of `lakehouse`."""
    target = WorkspaceFileTarget(paths=[str(WORKSPACE_FILE)])
    with WorkspaceProcessContext(instance, target, version=dagster_version) as process:
        workspace = process.create_request_context()
        error = workspace.get_code_location_error(LOCATION)
        if error is not None:
            raise LaunchError(f"code location {LOCATION} failed to load: {error.message.strip().splitlines()[0]}")
        location = workspace.get_code_location(LOCATION)
        (repository,) = location.get_repositories().values()
        job = repository.get_full_job(job_name)
        plan = location.get_execution_plan(job, {}, step_keys_to_execute=None, known_state=None, instance=instance)
        yield LocationJob(workspace, location, repository, job, plan.execution_plan_snapshot)


def create_partition_run(instance: dg.DagsterInstance, target: LocationJob, partition: str) -> DagsterRun:
    """Create a run of the job for one partition, with the code location's origin, as a launched run is created."""
    job = target.job
    return instance.create_run(
        job_name=job.name, run_id=None, run_config={}, resolved_op_selection=None,
        step_keys_to_execute=target.plan.step_keys_to_execute, op_selection=None, status=None,
        root_run_id=None, parent_run_id=None,
        tags={**job.tags, **LAUNCHED_BY, "dagster/partition": partition},
        job_snapshot=job.job_snapshot, execution_plan_snapshot=target.plan,
        parent_job_snapshot=job.parent_job_snapshot, remote_job_origin=job.get_remote_origin(),
        job_code_origin=job.get_python_origin(), asset_selection=None, asset_check_selection=None,
        asset_graph=target.repository.asset_graph,
    )


def execute_partition(instance: dg.DagsterInstance, target: LocationJob, partition: str,
                      on_event: Callable[[dg.EventLogEntry], None]) -> DagsterRun:
    """Create the partition's run and execute it in this process, handing each stored event to `on_event` from a
    second thread while it runs; the finished run. Ctrl-C fails the run (Dagster records it as an unexpected
    termination and returns), then raises KeyboardInterrupt here so that no later day starts."""
    run = create_partition_run(instance, target, partition)
    instance.report_dagster_event(dg.DagsterEvent(event_type_value=dg.DagsterEventType.RUN_STARTING.value,
                                                  job_name=run.job_name), run_id=run.run_id)
    stop = threading.Event()
    reader = threading.Thread(target=follow, args=(instance, run.run_id, on_event, stop), name="run-events",
                              daemon=True)
    reader.start()
    try:
        execute_run(recon_job_from_origin(run.job_code_origin), instance.get_run_by_id(run.run_id), instance)
    finally:
        stop.set()
        reader.join()
    finished = instance.get_run_by_id(run.run_id)
    assert finished is not None, run.run_id
    if finished.tags.get(RUN_FAILURE_REASON_TAG) == RunFailureReason.UNEXPECTED_TERMINATION.value:
        raise KeyboardInterrupt
    return finished


def follow(instance: dg.DagsterInstance, run_id: str, on_event: Callable[[dg.EventLogEntry], None],
           stop: threading.Event) -> None:
    """Hand every event of the run to `on_event` as it is stored, until `stop` is set and every event was read."""
    cursor = None
    while True:
        stopping = stop.is_set()
        page = instance.get_records_for_run(run_id, cursor=cursor)
        for record in page.records:
            on_event(record.event_log_entry)
        cursor = page.cursor
        if not page.has_more:
            if stopping:
                return
            stop.wait(POLL_SECONDS)
