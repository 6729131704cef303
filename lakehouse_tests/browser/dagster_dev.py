"""Start and stop a real `dagster dev` for the browser tests, and talk to its GraphQL endpoint."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DAGSTER = REPO / ".venv" / "bin" / "dagster"
WORKSPACE = REPO / "workspace.yaml"
LOCATION = "lakehouse"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reset_signals() -> None:
    """Run in the child before exec: `dagster dev` must see SIGINT/SIGTERM with default dispositions."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@dataclass
class DagsterDev:
    """A `dagster dev` process group serving the webserver on 127.0.0.1:port."""

    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def graphql(self, query: str, variables: dict[str, Any] | None = None, timeout: float = 10) -> dict[str, Any]:
        """POST a GraphQL query; returns `data` or raises with the errors."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise RuntimeError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait until the webserver answers and the code location is LOADED (fail fast if it errors)."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        query = """
        { workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
            locationOrLoadError { __typename ... on PythonError { message } } } } } }
        """
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster dev exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as response:
                    response.read()
                data = self.graphql(query)
                entries = data["workspaceOrError"].get("locationEntries") or []
                entry = next((e for e in entries if e["name"] == LOCATION), None)
                if entry is not None:
                    status = entry["locationOrLoadError"] or {}
                    if status.get("__typename") == "PythonError":
                        raise RuntimeError(f"code location {LOCATION} failed to load: {status['message']}")
                    if entry["loadStatus"] == "LOADED" and status.get("__typename") == "RepositoryLocation":
                        return
                    last = f"location {LOCATION}: {entry['loadStatus']}"
                else:
                    last = f"locations: {[e['name'] for e in entries]}"
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
                last = repr(exc)
            time.sleep(0.5)
        raise TimeoutError(f"dagster dev not ready after {timeout}s ({last}):\n{self.log_tail()}")

    def stop_automation(self) -> list[str]:
        """Turn off every sensor and schedule (they default to RUNNING) so only the test launches runs.

        The landing sensor would otherwise materialize any landing partition on its own within seconds.
        """
        data = self.graphql(
            """{ repositoriesOrError { ... on RepositoryConnection { nodes {
                sensors { name sensorState { id status } }
                schedules { name scheduleState { id status } } } } } }"""
        )
        stopped = []
        for repo in data["repositoriesOrError"]["nodes"]:
            for sensor in repo["sensors"]:
                if sensor["sensorState"]["status"] == "RUNNING":
                    result = self.graphql(
                        """mutation($id: String) { stopSensor(id: $id) { __typename
                            ... on StopSensorMutationResult { instigationState { status } }
                            ... on PythonError { message } } }""",
                        {"id": sensor["sensorState"]["id"]},
                    )["stopSensor"]
                    if (result.get("instigationState") or {}).get("status") != "STOPPED":
                        raise RuntimeError(f"could not stop sensor {sensor['name']}: {result}")
                    stopped.append(sensor["name"])
            for schedule in repo["schedules"]:
                if schedule["scheduleState"]["status"] == "RUNNING":
                    result = self.graphql(
                        """mutation($id: String) { stopRunningSchedule(id: $id) { __typename
                            ... on ScheduleStateResult { scheduleState { status } }
                            ... on PythonError { message } } }""",
                        {"id": schedule["scheduleState"]["id"]},
                    )["stopRunningSchedule"]
                    if (result.get("scheduleState") or {}).get("status") != "STOPPED":
                        raise RuntimeError(f"could not stop schedule {schedule['name']}: {result}")
                    stopped.append(schedule["name"])
        return stopped

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM the whole process group, then SIGKILL whatever is left after `timeout`."""
        pgid = self.process.pid  # start_new_session=True: the group id is the leader's pid
        _signal_group(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 5
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _group_alive(pgid):
            _signal_group(pgid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.2)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_dagster_dev(env: dict[str, str], log_path: Path, port: int | None = None) -> DagsterDev:
    """Start `dagster dev` in its own session with default signal dispositions; output goes to log_path."""
    port = port or free_port()
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the child, closed below
    try:
        process = subprocess.Popen(
            [str(DAGSTER), "dev", "-w", str(WORKSPACE), "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_reset_signals,
        )
    finally:
        log.close()
    return DagsterDev(process=process, port=port, log_path=log_path)
