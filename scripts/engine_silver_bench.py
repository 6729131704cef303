"""Time one silver_build (lineitem, one day; cold, then a rerun) on an engine: CPU s of this process and its JVM.

Usage: `python scripts/engine_silver_bench.py duckdb|spark <dir>`; the first call makes TPC-H SF 0.01 with
tpchgen-cli, writes lineitem as one all-string bronze day and its referenced tables (orders, partsupp) as silver,
and exits. Measurement only, not part of the pipeline or the tests.
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


engine, root = sys.argv[1], Path(sys.argv[2])
DAY = "2024-01-01"
if not (root / "bronze").exists():
    import duckdb
    import pyarrow as pa

    from glue_scripts.common.specs import SILVER_BY_NAME
    from glue_scripts.common.writer import write_arrow
    from lakehouse_tests.glue_scripts.helpers import silver_table

    tpch = root / "tpch"
    subprocess.run([str(Path(sys.executable).parent / "tpchgen-cli"), "parquet", "-s", "0.01", "-o", str(tpch)], check=True)
    for name in ("orders", "partsupp"):
        table = silver_table(tpch, name)
        for column, value in (("_updated_at", None), ("_ingestion_date", DAY), ("_source_ref", "x"), ("_record_hash", "h"),
                              ("_run_id", "r")):
            kind = pa.timestamp("us", tz="UTC") if value is None else pa.string()
            table = table.append_column(column, pa.array([value] * table.num_rows, kind))
        write_arrow(table, str(root / "silver" / name), f"ingestion_date={DAY}")
    columns = SILVER_BY_NAME["lineitem"].column_names
    raw = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in columns)
    hashed = " || '|' || ".join(f"CAST({c} AS VARCHAR)" for c in columns)
    bronze = duckdb.sql(f"SELECT {raw}, '2024-01-01 00:00:00' AS updated_at, '{DAY}' AS _ingestion_date, "
                        f"'lineitem.csv' AS _source_ref, sha256({hashed}) AS _record_hash "
                        f"FROM read_parquet('{tpch / 'lineitem.parquet'}')").to_arrow_table()
    write_arrow(bronze, str(root / "bronze" / "db__lineitem"), f"ingestion_date={DAY}")
    print("bronze ready", bronze.num_rows, flush=True)
    sys.exit(0)

from lakehouse.bench.timing import tree_cpu_seconds as cpu  # noqa: E402


spark = None
if engine == "spark":
    from glue_scripts.common.session import get_spark
    t0, c0 = time.monotonic(), cpu()
    spark = get_spark()
    print(json.dumps({"engine": engine, "phase": "session", "wall": round(time.monotonic() - t0, 1), "cpu": round(cpu() - c0, 1)}), flush=True)
from glue_scripts.jobs.silver_build import run
out = root / f"out-{engine}"
shutil.rmtree(out, ignore_errors=True)
for phase in ("cold", "rerun"):
    args = {"table": "lineitem", "ingestion_date": DAY, "bronze_path": str(root / "bronze"),
            "silver_path": str(out / "silver"), "quarantine_path": str(out / "quarantine"), "run_id": phase, "engine": engine}
    if phase == "cold":
        shutil.copytree(root / "silver", out / "silver")
    t0, c0 = time.monotonic(), cpu()
    result = run(spark, args)
    print(json.dumps({"engine": engine, "phase": phase, "wall": round(time.monotonic() - t0, 1), "cpu": round(cpu() - c0, 1),
                      "rows": result["rows"], "contributing": result["contributing"], "load": os.getloadavg()[0]}), flush=True)
