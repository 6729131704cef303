"""The measured stages: simulate, then the pipeline's own run path, split into layers by Dagster's event log.

Each Dagster step runs one asset (the in-process executor runs them one after another), so a step's
STEP_START → STEP_SUCCESS interval is its layer's time; what the run spends outside its steps (run
start, planning, event storage, resource set-up between steps) is Dagster's own overhead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from rich.console import Console

from glue_scripts.transforms.gold import MARTS_BY_NAME
from lakehouse.bench.timing import Span, TreeSampler
from lakehouse.pipeline import RunSummary, run_days, use_instance

LAYERS: tuple[str, ...] = ("bronze", "silver", "gold", "snowflake")
OVERHEAD = "dagster overhead"
# Folders under the root that each stage writes (quarantine/_files holds bronze's unreadable files).
WRITTEN: dict[str, tuple[str, ...]] = {
    "simulate": ("sources", "landing"),
    "bronze": ("bronze", "quarantine/_files"),
    "silver": ("silver", "quarantine"),
    "gold": ("gold",),
    "snowflake": ("snowflake",),
}
SKIPPED_DIRS = ("_staging", "_trash")


@dataclass
class StageStats:
    """What one stage cost: wall and CPU seconds, rows in and out, bytes written, peak tree RSS."""

    stage: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    rows_in: int = 0
    rows_out: int = 0
    bytes_written: int = 0
    peak_rss_bytes: int = 0
    steps: int = 0

    @property
    def rows_per_s(self) -> float:
        """Rows in per wall second."""
        return self.rows_in / self.wall_s if self.wall_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The stats as JSON-ready values, with rows per second."""
        return {**asdict(self), "rows_per_s": round(self.rows_per_s, 1)}


@dataclass
class StepRecord:
    """One Dagster step of a run: its layer, asset, interval and the materialization metadata it reported."""

    layer: str
    asset: str
    start: float
    end: float
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class DayRun:
    """One ingestion day through the pipeline: its run, its steps, and the bytes each layer wrote."""

    day: str
    run_id: str
    start: float
    end: float
    steps: list[StepRecord]
    bytes_written: dict[str, int]


def bytes_written_since(root: Path, folders: Iterable[str], since: float) -> int:
    """Bytes of the data files under `folders` modified at or after `since` (staging, trash and checksums skipped)."""
    total = 0
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(root / folder):
            dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
            for name in filenames:
                if name.startswith("."):
                    continue
                stat = os.stat(os.path.join(dirpath, name))
                if stat.st_mtime >= since:
                    total += stat.st_size
    return total


def folder_bytes(root: Path, folders: Iterable[str]) -> int:
    """Bytes of every file under `folders`."""
    return bytes_written_since(root, folders, 0.0)


def run_simulate(root: Path, sf: float, days: int, seed: int, sampler: TreeSampler) -> tuple[dict[str, Any], StageStats]:
    """Simulate the sources from scratch and measure it."""
    from lakehouse.sources import simulate

    span = Span()
    manifest = simulate(root, sf=sf, days=days, seed=seed, progress=False)
    span.close()
    stats = StageStats(
        "simulate", wall_s=span.seconds, cpu_s=sampler.cpu_between(span.start, span.end),
        rows_in=sum(int(n) for n in manifest["tpch_rows"].values()),
        rows_out=sum(int(t["totals"]["rows_delivered"]) for t in manifest["tables"].values()),
        bytes_written=folder_bytes(root, WRITTEN["simulate"]), peak_rss_bytes=sampler.peak_rss(span.start, span.end), steps=1,
    )
    return manifest, stats


def _metadata(materialization: dg.AssetMaterialization) -> dict[str, Any]:
    return {k: v.value for k, v in (materialization.metadata or {}).items()}


def read_steps(instance: dg.DagsterInstance, run_id: str) -> tuple[float, float, list[StepRecord]]:
    """The run's start and end (epoch) and its steps with their intervals and materialization metadata."""
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    assets: dict[str, tuple[str, dict[str, Any]]] = {}
    run_start = run_end = 0.0
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type
        if kind == dg.DagsterEventType.RUN_START:
            run_start = entry.timestamp
        elif kind in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
            run_end = entry.timestamp
        elif kind == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            ends[event.step_key] = entry.timestamp
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            assets[event.step_key] = (materialization.asset_key.to_user_string(), _metadata(materialization))
    steps = []
    for key, start in starts.items():
        asset, metadata = assets.get(key, (key.replace("__", "/", 1), {}))
        steps.append(StepRecord(asset.split("/", 1)[0], asset, start, ends.get(key, start), metadata))
    return run_start, run_end, sorted(steps, key=lambda s: s.start)


class PipelineBench:
    """Runs ingestion days through `lakehouse.pipeline.run_days` and keeps what each day's run did."""

    def __init__(self, root: Path, sampler: TreeSampler, console: Console) -> None:
        self.root = root
        self.sampler = sampler
        self.console = console
        self.instance = use_instance(root)
        self.day_runs: list[DayRun] = []
        self.hook_seconds = 0.0

    def _after_run(self, day: str, result: dg.DagsterRun) -> None:
        """Read the run's steps and the bytes each layer wrote (timed, so it is not charged to Dagster)."""
        started = time.time()
        run_start, run_end, steps = read_steps(self.instance, result.run_id)
        written = {layer: bytes_written_since(self.root, WRITTEN[layer], run_start) for layer in LAYERS}
        self.day_runs.append(DayRun(day, result.run_id, run_start, run_end, steps, written))
        self.hook_seconds += time.time() - started

    def run(self, days: list[str]) -> tuple[RunSummary, Span, float]:
        """Run `days` in order; return the summary, the whole interval, and the seconds spent in the bench's hook."""
        before = self.hook_seconds
        span = Span()
        summary = run_days(days, self.instance, self.console, on_run=self._after_run)
        span.close()
        return summary, span, self.hook_seconds - before


def layer_stats(runs: list[DayRun], sampler: TreeSampler) -> dict[str, StageStats]:
    """Per layer over the given day runs: step wall and CPU time, rows in and out, bytes written, peak RSS."""
    stats = {layer: StageStats(layer) for layer in LAYERS}
    for run in runs:
        silver_rows = {s.asset.split("/", 1)[1]: int(s.metadata.get("dagster/row_count", 0)) for s in run.steps if s.layer == "silver"}
        gold_rows = {s.asset.split("/", 1)[1]: int(s.metadata.get("dagster/row_count", 0)) for s in run.steps if s.layer == "gold"}
        for step in run.steps:
            if step.layer not in stats:
                continue
            entry = stats[step.layer]
            entry.wall_s += step.end - step.start
            entry.cpu_s += sampler.cpu_between(step.start, step.end)
            entry.peak_rss_bytes = max(entry.peak_rss_bytes, sampler.peak_rss(step.start, step.end))
            entry.steps += 1
            rows_in, rows_out = _step_rows(step, silver_rows, gold_rows)
            entry.rows_in += rows_in
            entry.rows_out += rows_out
        for layer, written in run.bytes_written.items():
            stats[layer].bytes_written += written
    return stats


def _step_rows(step: StepRecord, silver_rows: dict[str, int], gold_rows: dict[str, int]) -> tuple[int, int]:
    """(rows in, rows out) of one step from its materialization metadata."""
    meta, name = step.metadata, step.asset.split("/", 1)[1]
    if step.layer == "bronze":
        return int(meta.get("source_rows", 0)), int(meta.get("dagster/row_count", 0))
    if step.layer == "silver":
        return int(meta.get("bronze_rows", 0)), int(meta.get("contributing", 0))
    if step.layer == "gold":
        return sum(silver_rows.get(t, 0) for t in MARTS_BY_NAME[name].inputs), int(meta.get("dagster/row_count", 0))
    return gold_rows.get(name, 0), int(meta.get("dagster/row_count", 0))


def overhead_stats(runs: list[DayRun], span: Span, hook_seconds: float, layers: dict[str, StageStats],
                   sampler: TreeSampler) -> StageStats:
    """Dagster's own cost: the whole run_days interval less its steps and the bench's own hook."""
    wall = span.seconds - hook_seconds - sum(s.wall_s for s in layers.values())
    cpu = sampler.cpu_between(span.start, span.end) - sum(s.cpu_s for s in layers.values())
    return StageStats(OVERHEAD, wall_s=max(wall, 0.0), cpu_s=max(cpu, 0.0), steps=len(runs),
                      peak_rss_bytes=sampler.peak_rss(span.start, span.end))


def silver_gold_seconds(run: DayRun) -> float:
    """Wall seconds of one day's silver and gold steps."""
    return sum(s.end - s.start for s in run.steps if s.layer in ("silver", "gold"))


def bronze_rows_written(run: DayRun) -> int:
    """Rows the day's bronze steps wrote."""
    return sum(int(s.metadata.get("dagster/row_count", 0)) for s in run.steps if s.layer == "bronze")
