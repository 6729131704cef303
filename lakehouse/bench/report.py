"""The bench report: machine and versions, then the stage table with ratios to the floors, as JSON and Markdown."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import psutil

from lakehouse.bench.costs import FLOOR_PARTS
from lakehouse.bench.query_timing import markdown_line

PACKAGES: tuple[str, ...] = ("pyspark", "dagster", "dagster-pyspark", "duckdb", "pyarrow", "fakesnow", "psutil", "tpchgen-cli")
# Other processes keep the cores busy when the load average exceeds this process tree's own busy cores by this much.
CONTENTION_MARGIN = 0.5


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, else the platform's processor string."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """CPU model, logical cores, memory and operating system."""
    return {"cpu_model": cpu_model(), "cores": os.cpu_count(), "memory_bytes": psutil.virtual_memory().total,
            "os": f"{platform.system()} {platform.release()}"}


def _java_version() -> str:
    try:
        done = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[0] if lines else "unknown"


def versions() -> dict[str, str]:
    """Python, Java and the engine packages."""
    found = {"python": platform.python_version(), "java": _java_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found


def contention(load: dict[str, float], cores: int) -> dict[str, Any]:
    """The load measured during the run and whether other processes competed for the cores."""
    others = max(0.0, load["mean"] - load["own_cores"])
    return {**{k: round(v, 2) for k, v in load.items()}, "other_load": round(others, 2), "cores": cores,
            "contended": others > CONTENTION_MARGIN}


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _parts(floor: dict[str, Any]) -> str:
    """`b + s + g = total` in wall seconds, each part's CPU seconds in brackets."""
    parts = " + ".join(f"{floor[f'{p}_s']:.2f} ({floor[f'{p}_cpu_s']:.2f})" for p in FLOOR_PARTS)
    return f"{parts} = {floor['total_s']:.2f} ({floor['total_cpu_s']:.2f})"


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: a header, the stage table, floors, incremental cost and engine overhead."""
    m, p, load = report["machine"], report["parameters"], report["load"]
    v = report["versions"]
    lines = [
        f"### SF {p['sf']} × {p['days']} days, {p['engine']} engine",
        "",
        f"`{report['command']}`",
        "",
        f"Machine: {m['cpu_model']}, {m['cores']} cores, {_size(m['memory_bytes'])} memory, {m['os']}. "
        f"Versions: Python {v['python']}, {v['java']}, PySpark {v['pyspark']}, Dagster {v['dagster']}, "
        f"DuckDB {v['duckdb']}, pyarrow {v['pyarrow']}, fakesnow {v['fakesnow']}.",
        "",
        f"Load during the run: mean {load['mean']}, max {load['max']}, of which this bench {load['own_cores']} cores; "
        + ("**measured under contention** (other processes kept "
           f"{load['other_load']} cores busy)." if load["contended"] else "no contention from other processes."),
        f"Peak resident memory of the process tree: {_size(report['peak_rss_bytes'])}.",
        "",
        "Ratios are the stage's wall (CPU) seconds over the floor's: bronze, silver and gold against the floors' own part "
        "of that stage, every other row against the whole floor (bronze + silver + gold).",
        "",
        "| stage | wall s | CPU s | rows in | rows out | rows/s | bytes written | peak RSS | × DuckDB floor | × I/O floor "
        "| × DuckDB floor (CPU) | × I/O floor (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for stage in [*report["stages"], report["pipeline_total"]]:
        lines.append("| " + " | ".join([
            stage["stage"], _cell(stage["wall_s"]), _cell(stage["cpu_s"]), _cell(stage["rows_in"]), _cell(stage["rows_out"]),
            _cell(stage["rows_per_s"]), _size(stage["bytes_written"]), _size(stage["peak_rss_bytes"]),
            _cell(stage["ratio_duckdb"]), _cell(stage["ratio_io"]), _cell(stage["ratio_duckdb_cpu"]), _cell(stage["ratio_io_cpu"]),
        ]) + " |")
    duck, io, agree = report["floors"]["duckdb"], report["floors"]["io"], report["correctness"]
    inc, eng = report["incremental"], report["engine_overhead"]
    lines += [
        "",
        f"Floors (bronze + silver + gold = total, wall seconds, CPU seconds in brackets): DuckDB SQL {_parts(duck)}; "
        f"I/O (pyarrow, {io['codec']}) {_parts(io)}. Floor bronze rows equal the pipeline's per table and day: "
        f"{agree['bronze_equal']}; floor silver rows equal the pipeline's: {agree['silver_rows_equal']}.",
        "",
        f"Incremental cost (silver + gold): first day {inc['first_day_s']:.2f} s ({inc['first_day_bronze_rows']:,} bronze rows), "
        f"day {inc['history_days'] + 1} after {inc['history_days']} days of history {inc['extra_day_s']:.2f} s "
        f"({inc['extra_day_bronze_rows']:,} bronze rows): ratio {_cell(inc['ratio'])}, "
        f"per bronze row {_cell(inc['ratio_per_row'])}.",
        "",
        f"Engine overhead on {eng['engine']} (empty input): "
        + (f"Spark session start {eng['session_start_s']:.2f} s, " if eng["session_start_s"] is not None else "no JVM, ")
        + f"`gold_build` {eng['gold_build_empty_s']:.2f} s per job, `silver_build` {eng['silver_build_empty_s']:.2f} s per job.",
        "",
        markdown_line(report["query_select_1"]),
    ]
    return "\n".join(lines) + "\n"
