"""Runs submitted together through the UI's GraphQL API all succeed on the instance built from the repository's
dagster.yaml (SQLite storage), served as `make dev` serves it (`dagster dev`'s webserver and daemon on one code
server): the daemon's run queue starts them in their own processes, never more than `max_concurrent_runs` at a
time, and no event, compute log or process output (webserver, daemon, code server, run workers) says "database is
locked"."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.errors import DagsterUserCodeUnreachableError
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster._grpc.client import DagsterGrpcClient
from dagster.version import __version__ as dagster_version
from dagster_graphql import DagsterGraphQLClient

from lakehouse.launch import DAILY_JOB_NAME, LOCATION
from lakehouse_tests.fixtures.worlds import lakehouse_env
from lakehouse_tests.glue_scripts.helpers import land

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOCKED = "database is locked"
FILES = {
    "region": "r_regionkey,r_name,r_comment,updated_at\n0,AFRICA,x,{day} 00:00:00\n1,AMERICA,y,{day} 01:00:00\n",
    "nation": "n_nationkey,n_name,n_regionkey,n_comment,updated_at\n0,ALGERIA,0,x,{day} 00:00:00\n",
}
# One run more than the queue's two slots: the third waits in the queue until one of the first two has finished.
RUNS = (("region", "2024-01-01"), ("region", "2024-01-02"), ("nation", "2024-01-01"))
# Guards against a process that hangs, not speed goals.
STARTUP_SECONDS = 300
RUNS_SECONDS = 900


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(ready: Callable[[], bool], what: str, process: subprocess.Popen, deadline: float = STARTUP_SECONDS) -> None:
    """Poll `ready` until it holds; fail if `process` exits first or the deadline passes."""
    started = time.monotonic()
    while not ready():
        assert process.poll() is None, f"{what}: exited with {process.returncode}"
        assert time.monotonic() - started < deadline, f"{what}: not ready"
        time.sleep(0.5)


def _answers(call: Callable[[], object], not_yet: tuple[type[Exception], ...]) -> Callable[[], bool]:
    """A readiness probe: True once `call` returns, False while it raises one of `not_yet`."""
    def ready() -> bool:
        try:
            call()
            return True
        except not_yet:
            return False
    return ready


@contextmanager
def _process(root: Path, args: list[str], log: str) -> Iterator[subprocess.Popen]:
    """A command on `root`'s environment, its output in `<root>/<log>.log`; terminated (then killed) on exit."""
    with (root / f"{log}.log").open("w") as out:
        process = subprocess.Popen(args, cwd=REPO, env=lakehouse_env(root), stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _stop_sensors_and_schedules(instance: dg.DagsterInstance, workspace_file: Path) -> None:
    """Stop every sensor and schedule of the location before the daemon starts, so that only the test's runs run."""
    with WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(workspace_file)]),
                                 version=dagster_version) as context:
        (repository,) = context.create_request_context().get_code_location(LOCATION).get_repositories().values()
        for sensor in repository.get_sensors():
            instance.stop_sensor(sensor.get_remote_origin_id(), sensor.selector_id, sensor)
        for schedule in repository.get_schedules():
            instance.stop_schedule(schedule.get_remote_origin_id(), schedule.selector_id, schedule)


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    """The most (start, end) spans open at the same moment; an end frees its slot before a start at that moment."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def test_runs_submitted_together_queue_within_the_limit_and_never_lock_the_storage(tmp_path: Path) -> None:
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    for table, text in FILES.items():
        for day in [d for t, d in RUNS if t == table]:
            land(tmp_path / "landing", "files", table, f"{table}.csv", text.format(day=day), day=day)
    grpc_port, web_port = _free_port(), _free_port()
    workspace = tmp_path / "workspace.yaml"  # the one code server the test, the webserver and the daemon share
    workspace.write_text(f"load_from:\n  - grpc_server:\n      host: 127.0.0.1\n      port: {grpc_port}\n"
                         f"      location_name: {LOCATION}\n")

    with dg.DagsterInstance.from_config(str(home)) as instance, _process(
        tmp_path, [str(BIN / "dagster"), "api", "grpc", "-m", "lakehouse.definitions", "--location-name", LOCATION,
                   "-h", "127.0.0.1", "-p", str(grpc_port)], "code-server",
    ) as code_server, ExitStack() as stack:  # the webserver and the daemon stop before the code server
        grpc = DagsterGrpcClient(port=grpc_port, host="127.0.0.1")
        _wait(_answers(lambda: grpc.ping("ready"), (DagsterUserCodeUnreachableError,)), "code server", code_server)
        _stop_sensors_and_schedules(instance, workspace)
        webserver = stack.enter_context(_process(
            tmp_path, [str(BIN / "dagster-webserver"), "-w", str(workspace), "-h", "127.0.0.1", "-p", str(web_port)],
            "webserver"))
        _wait(_answers(lambda: urllib.request.urlopen(f"http://127.0.0.1:{web_port}/server_info", timeout=5),
                       (OSError,)), "webserver", webserver)
        client = DagsterGraphQLClient("127.0.0.1", port_number=web_port)
        run_ids = [client.submit_job_execution(
            DAILY_JOB_NAME, repository_location_name=LOCATION, tags={"dagster/partition": day},
            asset_selection=[["bronze", f"files__{table}"]]) for table, day in RUNS]
        assert {instance.get_run_by_id(r).status for r in run_ids} == {dg.DagsterRunStatus.QUEUED}
        daemon = stack.enter_context(
            _process(tmp_path, [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], "daemon"))
        _wait(lambda: all(instance.get_run_by_id(r).is_finished for r in run_ids), "the runs", daemon, RUNS_SECONDS)
        limit = instance.get_concurrency_config().run_queue_config.max_concurrent_runs
        records = [instance.get_run_record_by_id(run_id) for run_id in run_ids]
        events = [e for run_id in run_ids for e in instance.all_logs(run_id)]

    assert len(run_ids) > limit
    assert [r.dagster_run.status for r in records] == [dg.DagsterRunStatus.SUCCESS] * len(run_ids)
    assert _most_at_once([(r.start_time, r.end_time) for r in records]) <= limit, "never more in STARTED than allowed"
    starting = {e.run_id: e.timestamp for e in events if e.dagster_event_type == dg.DagsterEventType.RUN_STARTING}
    in_flight = [(starting[r.dagster_run.run_id], r.end_time) for r in records]
    assert _most_at_once(in_flight) == limit, "the daemon launched runs side by side, up to the limit and no more"
    assert [e for e in events if LOCKED in (e.message or "") or LOCKED in str(e.dagster_event or "")] == []
    compute_logs = [p for p in (home / "storage").rglob("*") if p.is_file() and p.suffix in (".out", ".err")]
    assert compute_logs, "the run workers' compute logs were captured"
    outputs = [*compute_logs, *(tmp_path / f"{log}.log" for log in ("code-server", "webserver", "daemon"))]
    assert [p.name for p in outputs if LOCKED in p.read_text(errors="replace")] == []
    assert "QueuedRunCoordinatorDaemon" in (tmp_path / "daemon.log").read_text(), "the daemon's output was read"
