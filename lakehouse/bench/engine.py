"""Engine overhead: the local Glue-job runner's fixed cost, measured in a fresh process on empty input.

`python -m lakehouse.bench.engine DIR ENGINE` prints one JSON object: on the spark engine the seconds to start
the local Spark session (the JVM included; None on duckdb, which starts none), and the median seconds of a
`gold_build` and a `silver_build` run on ENGINE whose input is empty, which is what every job pays before it
touches a row.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from glue_scripts.common.specs import BRONZE_METADATA_COLUMNS, SILVER_BY_NAME
from glue_scripts.transforms.silver_standardize import raw_columns

REPEATS = 3
DAY = "2024-01-01"


def _empty_bronze(bronze: Path, table: str, columns: tuple[str, ...]) -> None:
    """An empty bronze partition with the table's raw string columns, as the bronze job would leave it."""
    folder = bronze / table / f"ingestion_date={DAY}"
    folder.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([(c, pa.string()) for c in (*columns, *BRONZE_METADATA_COLUMNS)])
    pq.write_table(schema.empty_table(), folder / "part-00000.parquet", compression="zstd")


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def measure(work: Path, engine: str) -> dict[str, Any]:
    """Session start (spark only), then REPEATS empty gold and silver job runs on `engine`; seconds."""
    from glue_scripts.common.session import LazySpark, get_spark
    from glue_scripts.jobs import gold_build, silver_build

    shutil.rmtree(work, ignore_errors=True)
    spec = SILVER_BY_NAME["region"]
    _empty_bronze(work / "bronze", spec.bronze, raw_columns(spec))
    session_s = _timed(get_spark) if engine == "spark" else None
    spark = LazySpark()
    gold_args = {"mart": "pricing_summary", "ingestion_date": DAY, "silver_path": str(work / "silver"),
                 "gold_path": str(work / "gold"), "run_id": "bench-engine", "engine": engine}
    silver_args = {"table": spec.name, "ingestion_date": DAY, "bronze_path": str(work / "bronze"), "silver_path": str(work / "silver"),
                   "quarantine_path": str(work / "quarantine"), "run_id": "bench-engine", "engine": engine}
    gold = [_timed(lambda: gold_build.run(spark, dict(gold_args))) for _ in range(REPEATS)]
    silver = [_timed(lambda: silver_build.run(spark, dict(silver_args))) for _ in range(REPEATS)]
    if spark.started:
        spark.stop()
    shutil.rmtree(work, ignore_errors=True)
    return {"engine": engine, "session_start_s": session_s, "gold_build_empty_s": statistics.median(gold),
            "silver_build_empty_s": statistics.median(silver), "gold_build_empty_runs_s": gold,
            "silver_build_empty_runs_s": silver, "repeats": REPEATS}


def measure_in_subprocess(work: Path, engine: str) -> dict[str, Any]:
    """Run `measure` in a fresh Python process, so the session start is cold, and return its JSON."""
    done = subprocess.run([sys.executable, "-m", "lakehouse.bench.engine", str(work), engine], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"engine overhead measurement failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), sys.argv[2])))
