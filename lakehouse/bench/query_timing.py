"""`lakehouse query "SELECT 1"` timed as a user runs it: a fresh process each time, after one warm-up run."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

QUERY = "SELECT 1"
RUNS = 5


class QueryTimingError(RuntimeError):
    """The query command failed, so there is nothing to time."""


def time_select_1(root: Path, runs: int = RUNS) -> dict[str, Any]:
    """Median, minimum and maximum wall seconds of `lakehouse query "SELECT 1"` over `runs` warm runs on `root`."""
    command = [str(Path(sys.executable).with_name("lakehouse")), "query", "--root", str(root), "--format", "csv", QUERY]
    seconds = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise QueryTimingError(f"`lakehouse query {QUERY!r}` failed: {done.stderr.strip()[-500:]}")
        if attempt:  # the first run warms the page cache and the bytecode
            seconds.append(elapsed)
    return {"query": QUERY, "runs": runs, "median_s": round(statistics.median(seconds), 3),
            "min_s": round(min(seconds), 3), "max_s": round(max(seconds), 3)}


def markdown_line(figures: dict[str, Any]) -> str:
    """The timing as one sentence of the report."""
    return (f"`lakehouse query \"{figures['query']}\"` (a fresh process, warm): median {figures['median_s']:.2f} s "
            f"over {figures['runs']} runs (min {figures['min_s']:.2f}, max {figures['max_s']:.2f}).")
