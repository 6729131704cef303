"""`lakehouse run`: simulate if needed, then materialize every asset for every ingestion day through Dagster."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from rich.console import Console
from rich.progress import Progress

from lakehouse.settings import load_settings

INSTANCE_CONFIG = Path(__file__).resolve().parents[1] / "dagster.yaml"


@dataclass
class RunSummary:
    """What a pipeline run did: runs per day, check outcomes, failures, and rows per catalogued table."""

    days: list[str] = field(default_factory=list)
    failed_runs: list[str] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    blocking_failed: list[str] = field(default_factory=list)
    table_rows: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every run succeeded and no blocking check failed."""
        return not self.failed_runs and not self.blocking_failed


def use_instance(root: Path) -> dg.DagsterInstance:
    """The persistent Dagster instance under the warehouse root, shared with `make dev`."""
    home = root / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(INSTANCE_CONFIG, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def run_days(
    days: list[str], instance: dg.DagsterInstance, console: Console | None = None,
    on_run: Callable[[str, dg.ExecuteInProcessResult], None] | None = None,
) -> RunSummary:
    """Materialize every asset for each day in order, recording runs in the instance; `on_run` sees each day's result."""
    from lakehouse.definitions import DAILY_JOB, build_definitions

    defs = build_definitions(load_settings())
    job = defs.resolve_job_def(DAILY_JOB.name)
    graph = defs.resolve_asset_graph()
    blocking = {(c.asset_key, c.name) for c in graph.asset_check_keys if graph.get_check_spec(c).blocking}
    summary = RunSummary(days=list(days))
    with Progress(console=console or Console(), transient=False) as progress:
        task = progress.add_task("materializing ingestion days", total=len(days))
        for day in days:
            result = job.execute_in_process(instance=instance, partition_key=day, raise_on_error=False)
            if not result.success:
                summary.failed_runs.append(f"{day} (run {result.run_id})")
            for evaluation in result.get_asset_check_evaluations():
                label = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name} [{day}]"
                if evaluation.passed:
                    summary.checks_passed += 1
                elif evaluation.severity == dg.AssetCheckSeverity.ERROR:
                    summary.checks_failed.append(label)
                    if (evaluation.asset_key, evaluation.check_name) in blocking:
                        summary.blocking_failed.append(label)
            if on_run is not None:
                on_run(day, result)
            progress.advance(task)
    return summary
