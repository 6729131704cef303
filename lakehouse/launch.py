"""Launch the code location's `lakehouse_daily` job on the instance, as the UI and `dagster job launch` do."""

from __future__ import annotations

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
from dagster._core.workspace.context import WorkspaceProcessContext, WorkspaceRequestContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
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


def launch_partition(instance: dg.DagsterInstance, target: LocationJob, partition: str) -> DagsterRun:
    """Create a run of the job for one partition, with the code location's origin, and hand it to the run launcher."""
    job = target.job
    run = instance.create_run(
        job_name=job.name, run_id=None, run_config={}, resolved_op_selection=None,
        step_keys_to_execute=target.plan.step_keys_to_execute, op_selection=None, status=None,
        root_run_id=None, parent_run_id=None,
        tags={**job.tags, **LAUNCHED_BY, "dagster/partition": partition},
        job_snapshot=job.job_snapshot, execution_plan_snapshot=target.plan,
        parent_job_snapshot=job.parent_job_snapshot, remote_job_origin=job.get_remote_origin(),
        job_code_origin=job.get_python_origin(), asset_selection=None, asset_check_selection=None,
        asset_graph=target.repository.asset_graph,
    )
    return instance.launch_run(run.run_id, target.workspace)


def follow(instance: dg.DagsterInstance, run_id: str, on_event: Callable[[dg.EventLogEntry], None]) -> DagsterRun:
    """Hand every event of the run to `on_event` as it is stored, until the run has finished; the finished run."""
    cursor = None
    try:
        while True:
            run = instance.get_run_by_id(run_id)
            assert run is not None, run_id
            page = instance.get_records_for_run(run_id, cursor=cursor)
            for record in page.records:
                on_event(record.event_log_entry)
            cursor = page.cursor
            if run.is_finished and not page.has_more:
                return run
            if not page.has_more:
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        instance.run_launcher.terminate(run_id)
        raise
