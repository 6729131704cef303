"""Time one gold mart build (cold, then warm) on an engine: CPU seconds of this process and its JVM, load average.

Usage: `python scripts/engine_gold_bench.py duckdb|spark <mart> <dir>`; the first call builds silver TPC-H SF 0.1
in `<dir>/silver` and exits. Measurement only, not part of the pipeline or the tests.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path


engine, mart, root = sys.argv[1], sys.argv[2], Path(sys.argv[3])
silver = root / "silver"
if not silver.exists():
    import pyarrow as pa

    from glue_scripts.common.specs import SILVER_BY_NAME
    from glue_scripts.common.writer import write_arrow
    from lakehouse_tests.glue_scripts.helpers import silver_table

    tpch = root / "tpch"
    subprocess.run([str(Path(sys.executable).parent / "tpchgen-cli"), "parquet", "-s", "0.1", "-o", str(tpch)], check=True)
    for name in SILVER_BY_NAME:
        table = silver_table(tpch, name)
        halves = [(table.slice(0, table.num_rows // 2), "2024-01-01"), (table.slice(table.num_rows // 2), "2024-01-02")] \
            if name == "lineitem" else [(table, "2024-01-01")]
        for part, day in halves:
            part = part.append_column("_ingestion_date", pa.array([day] * part.num_rows, pa.string()))
            write_arrow(part, str(silver / name), f"ingestion_date={day}")
    print("silver ready", flush=True)
    sys.exit(0)

from lakehouse.bench.timing import tree_cpu_seconds as cpu  # noqa: E402


spark = None
if engine != "duckdb":
    from glue_scripts.common.session import get_spark
    t0, c0 = time.monotonic(), cpu()
    spark = get_spark()
    spark.conf.set("spark.sql.shuffle.partitions", "4")
    print(json.dumps({"engine": engine, "phase": "session", "wall": round(time.monotonic() - t0, 1), "cpu": round(cpu() - c0, 1)}), flush=True)
from glue_scripts.jobs.gold_build import run
for phase in ("cold", "warm"):
    args = {"mart": mart, "ingestion_date": "2024-01-02", "silver_path": str(silver), "gold_path": str(root / f"gold-{engine}"),
            "run_id": phase, "engine": "spark" if engine.startswith("spark") else "duckdb"}
    t0, c0, load = time.monotonic(), cpu(), os.getloadavg()[0]
    result = run(spark, args)
    print(json.dumps({"engine": engine, "phase": phase, "mart": mart, "rows": result["rows"], "wall": round(time.monotonic() - t0, 1),
                      "cpu": round(cpu() - c0, 1), "load1": round(load, 1), "load1_end": round(os.getloadavg()[0], 1)}), flush=True)
