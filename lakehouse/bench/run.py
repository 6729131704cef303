"""`lakehouse bench`: simulate, run the pipeline through its own run path, measure the floors, write the report."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from lakehouse.bench.agreement import Agreement, bronze_differences, bronze_rows, silver_rows
from lakehouse.bench.costs import Cost, FloorCost, Ratios, ratio
from lakehouse.bench.duckdb_floor import run_duckdb_floor
from lakehouse.bench.engine import measure_in_subprocess
from lakehouse.bench.io_floor import run_io_floor
from lakehouse.bench.query_timing import QueryTimingError, time_select_1
from lakehouse.bench.report import contention, machine, markdown, versions
from lakehouse.bench.stages import (
    PipelineBench, StageStats, bronze_rows_written, layer_stats, overhead_stats, run_simulate, silver_gold_seconds,
)
from lakehouse.bench.timing import Span, TreeSampler

# Everything a run leaves under the root; the bench starts from none of it.
ROOT_FOLDERS: tuple[str, ...] = ("sources", "landing", "bronze", "silver", "gold", "quarantine", "catalog", "snowflake",
                                 "dagster", "metrics", "bench")


class BenchError(RuntimeError):
    """The pipeline failed, or a floor disagrees with it, so the figures would not be comparable."""


def _with_ratios(stats: StageStats, duck: FloorCost, io: FloorCost) -> dict[str, Any]:
    """The stage's stats with its wall and CPU ratios to the floors' part for it (its own, else their total)."""
    return {**stats.as_dict(), **Ratios.of(stats.stage, Cost(stats.wall_s, stats.cpu_s), duck, io).as_dict()}


def run_bench(root: Path, sf: float, days: int, seed: int, engine: str, command: str, console: Console) -> dict[str, Any]:
    """Measure every stage of N days on `engine`, the floors doing the same work from the same sources, one more day,
    and the engine's fixed cost."""
    os.environ["LAKEHOUSE_ENGINE"] = engine  # read by the code location the runs are launched in
    for folder in ROOT_FOLDERS:
        shutil.rmtree(root / folder, ignore_errors=True)
    work = root / "bench"
    with TreeSampler() as sampler:
        whole = Span()
        console.print(f"bench: simulating {days + 1} days at SF {sf} (the last one measures incremental cost)")
        manifest, simulate_stats = run_simulate(root, sf, days + 1, seed, sampler)
        all_days = [str(d) for d in manifest["days"]]
        history, extra_day = all_days[:days], all_days[days]
        pipeline = PipelineBench(root, sampler, console)
        console.print(f"bench: running the pipeline on {engine} for {', '.join(history)}")
        summary, span, hook_s = pipeline.run(history)
        if not summary.ok:
            raise BenchError(f"pipeline failed: runs {summary.failed_runs}, blocking checks {summary.blocking_failed}")
        runs = list(pipeline.day_runs)
        layers = layer_stats(runs, sampler)
        overhead = overhead_stats(runs, span, hook_s, layers, sampler)
        console.print("bench: DuckDB SQL floor, sources → bronze → silver → gold")
        duck = run_duckdb_floor(root, history, work / "duckdb_floor", threads=os.cpu_count() or 1)
        agreement = Agreement(bronze_rows(root / "bronze", history), duck.bronze_rows,
                              bronze_differences(root / "bronze", work / "duckdb_floor" / "bronze", history, work / "compare"),
                              silver_rows(root), duck.silver_rows)
        console.print("bench: I/O floor")
        io = run_io_floor(root, history, work / "io_floor")
        console.print(f"bench: one more day, {extra_day}, after {days} days of history")
        extra_summary, _, _ = pipeline.run([extra_day])
        if not extra_summary.ok:
            raise BenchError(f"incremental day failed: {extra_summary.failed_runs} {extra_summary.blocking_failed}")
        extra = pipeline.day_runs[-1]
        console.print("bench: engine overhead on empty input")
        overhead_engine = measure_in_subprocess(work / "engine", engine)
        console.print('bench: lakehouse query "SELECT 1"')
        try:
            query = time_select_1(root)
        except QueryTimingError as error:
            raise BenchError(str(error)) from error
        whole.close()
        load = contention(sampler.load(whole.start, whole.end), os.cpu_count() or 1)
        peak = sampler.peak_rss()
    if agreement.problems():
        raise BenchError("the DuckDB floor disagrees with the pipeline: " + "; ".join(agreement.problems()))
    stage_list = [simulate_stats, *layers.values(), overhead]
    total = StageStats("pipeline (bronze → snowflake)", wall_s=span.seconds - hook_s,
                       cpu_s=sum(s.cpu_s for s in (*layers.values(), overhead)),
                       rows_in=layers["bronze"].rows_in, rows_out=layers["snowflake"].rows_out,
                       bytes_written=sum(s.bytes_written for s in layers.values()),
                       peak_rss_bytes=sampler.peak_rss(span.start, span.end), steps=sum(s.steps for s in layers.values()))
    stages = [_with_ratios(stats, duck.cost, io.cost) for stats in stage_list]
    first, first_s, extra_s = runs[0], silver_gold_seconds(runs[0]), silver_gold_seconds(extra)
    first_rows, extra_rows = bronze_rows_written(first), bronze_rows_written(extra)
    per_row = (extra_s / extra_rows) / (first_s / first_rows) if first_rows and extra_rows and first_s else None
    return {
        "command": command,
        "parameters": {"sf": sf, "days": days, "seed": seed, "engine": engine, "root": str(root), "history_days": history, "extra_day": extra_day},
        "machine": machine(),
        "versions": versions(),
        "load": load,
        "peak_rss_bytes": peak,
        "stages": stages,
        "pipeline_total": _with_ratios(total, duck.cost, io.cost),
        "floors": {"duckdb": duck.as_dict(), "io": io.as_dict()},
        "correctness": agreement.as_dict(),
        "incremental": {"history_days": days, "first_day": first.day, "first_day_s": first_s, "first_day_bronze_rows": first_rows,
                        "extra_day": extra.day, "extra_day_s": extra_s, "extra_day_bronze_rows": extra_rows,
                        "ratio": ratio(extra_s, first_s), "ratio_per_row": round(per_row, 2) if per_row is not None else None},
        "engine_overhead": overhead_engine,
        "query_select_1": query,
        "checks": {"passed": summary.checks_passed + extra_summary.checks_passed,
                   "failed": [c.label for c in (*summary.failed_checks, *extra_summary.failed_checks)]},
        "wall_s": whole.seconds,
    }


def write_report(report: dict[str, Any], out: Path) -> Path:
    """Write the JSON report to `out` and the Markdown beside it (`.md`); return the Markdown path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    md = out.with_suffix(".md")
    md.write_text(markdown(report))
    return md


def command_line() -> str:
    """The command as it was typed, for the report."""
    return " ".join(["lakehouse", *sys.argv[1:]])
