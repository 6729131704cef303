"""`lakehouse run`: every ingestion day, in order, as a run of the code location's `lakehouse_daily` job."""

from __future__ import annotations

import os
import importlib
import shutil
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lakehouse.launch import execute_partition, location_job

INSTANCE_CONFIG = Path(__file__).resolve().parents[1] / "dagster.yaml"
# What the runs import on their first day: loaded in the background while the code location's server starts.
PRELOADED = ("lakehouse.definitions", "dagster_snowflake")
STEP_DONE = (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_SKIPPED)


@dataclass(frozen=True)
class CheckOutcome:
    """One failed asset check evaluation of one day: what it measured, and whether it blocks downstream."""

    asset: str
    check: str
    day: str
    blocking: bool
    metadata: dict[str, object]

    @property
    def label(self) -> str:
        """`asset:check [day]`."""
        return f"{self.asset}:{self.check} [{self.day}]"


@dataclass
class RunSummary:
    """What a pipeline run did: runs per day, check outcomes, failures, and rows per catalogued table."""

    days: list[str] = field(default_factory=list)
    run_ids: dict[str, str] = field(default_factory=dict)
    failed_runs: list[str] = field(default_factory=list)
    checks_passed: int = 0
    failed_checks: list[CheckOutcome] = field(default_factory=list)
    table_rows: dict[str, int] = field(default_factory=dict)

    @property
    def blocking_failed(self) -> list[CheckOutcome]:
        """Failed checks that stop downstream assets (blocking, with error severity)."""
        return [c for c in self.failed_checks if c.blocking]

    @property
    def ok(self) -> bool:
        """True when every run succeeded and no blocking check failed."""
        return not self.failed_runs and not self.blocking_failed


def _preload() -> None:
    for module in PRELOADED:
        importlib.import_module(module)


def use_instance(root: Path) -> dg.DagsterInstance:
    """The persistent Dagster instance under the warehouse root, shared with `make dev`."""
    home = root / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(INSTANCE_CONFIG, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


class _DayProgress:
    """Reads one day's run events: advances its progress bar, names the running step, collects check outcomes."""

    def __init__(self, day: str, summary: RunSummary, progress: Progress, steps: int) -> None:
        self.day, self.summary, self.progress = day, summary, progress
        self.task = progress.add_task(day, total=steps, step="starting")

    def __call__(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        if event.event_type == dg.DagsterEventType.STEP_START and event.step_key:
            self.progress.update(self.task, step=event.step_key.replace("__", "/", 1))
        elif event.event_type in STEP_DONE:
            self.progress.advance(self.task)
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            self._record(event.event_specific_data)

    def _record(self, evaluation: dg.AssetCheckEvaluation) -> None:
        if evaluation.passed:
            self.summary.checks_passed += 1
            return
        blocking = bool(evaluation.blocking) and evaluation.severity == dg.AssetCheckSeverity.ERROR
        metadata = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
        self.summary.failed_checks.append(
            CheckOutcome(evaluation.asset_key.to_user_string(), evaluation.check_name, self.day, blocking, metadata))

    def finish(self, run: dg.DagsterRun) -> None:
        total = self.progress.tasks[self.task].total
        self.progress.update(self.task, completed=total, step=run.status.value.lower())


def run_days(
    days: list[str], instance: dg.DagsterInstance, console: Console | None = None,
    on_run: Callable[[str, dg.DagsterRun], None] | None = None,
) -> RunSummary:
    """Run the code location's daily job for each day in order (day D+1 starts after day D finished), each day a
    run on `instance` executed in this process. Progress goes to `console`; `on_run` sees each day's finished
    run."""
    summary = RunSummary(days=list(days))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[step]}"))
    threading.Thread(target=_preload, name="preload", daemon=True).start()
    with ExitStack() as stack:
        target = stack.enter_context(location_job(instance))
        progress = stack.enter_context(Progress(*columns, console=console or Console(), transient=False))
        for day in days:
            reader = _DayProgress(day, summary, progress, len(target.step_keys))
            run = execute_partition(instance, target, day, reader)
            reader.finish(run)
            summary.run_ids[day] = run.run_id
            if run.status != dg.DagsterRunStatus.SUCCESS:
                summary.failed_runs.append(f"{day} (run {run.run_id}: {run.status.value.lower()})")
            if on_run is not None:
                on_run(day, run)
    return summary
