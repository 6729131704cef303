"""Bronze partitions are replaced whole: re-runs are idempotent, and a job killed mid-write changes nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyspark.sql import SparkSession

from glue_scripts.jobs.bronze_ingest_files import run
from lakehouse_tests.glue_scripts.helpers import DAY, job_args, land, one_day, read_partition

ROOT = Path(__file__).resolve().parents[3]
HEADER = "r_regionkey,r_name,r_comment,updated_at\n"
VOLATILE = {"_ingested_at", "_run_id"}

DRIVER = """
import json, sys, time
from glue_scripts.common import writer

def block_forever(write):
    time.sleep(3600)

writer.commit = block_forever
from glue_scripts.common.session import get_spark
from glue_scripts.jobs.bronze_ingest_files import run
run(get_spark(), json.loads(sys.argv[1]))
"""


def _stable(df) -> list[tuple]:
    cols = [c for c in df.columns if c not in VOLATILE]
    return sorted(tuple(r) for r in df.select(*cols).collect())


def _land_region(tmp_path: Path, rows: str, name: str = "region-01.csv") -> None:
    land(tmp_path / "landing", "files", "region", name, HEADER + rows)


def test_rerun_replaces_the_partition_identically(spark: SparkSession, tmp_path: Path) -> None:
    _land_region(tmp_path, "0,AFRICA,x,2024-01-01 00:00:00\n0,AFRICA,x,2024-01-01 00:00:00\n1,AMERICA\n")
    first = one_day(run(spark, job_args(tmp_path, "files__region", run_id="run-1")))
    before = _stable(read_partition(spark, tmp_path, "files__region"))
    second = one_day(run(spark, job_args(tmp_path, "files__region", run_id="run-2")))
    after_df = read_partition(spark, tmp_path, "files__region")
    assert _stable(after_df) == before and len(before) == 3
    assert {r["_run_id"] for r in after_df.collect()} == {"run-2"}
    assert (first.rows, first.files) == (second.rows, second.files)
    table = tmp_path / "bronze" / "files__region"
    assert sorted(p.name for p in table.iterdir() if not p.name.startswith("_")) == [f"ingestion_date={DAY}"]
    assert not list((table / "_staging").iterdir()) if (table / "_staging").exists() else True


def test_killed_write_leaves_previous_partition_intact(spark: SparkSession, tmp_path: Path) -> None:
    _land_region(tmp_path, "0,AFRICA,x,2024-01-01 00:00:00\n1,AMERICA,y,2024-01-01 00:00:00\n")
    run(spark, job_args(tmp_path, "files__region", run_id="run-1"))
    partition = tmp_path / "bronze" / "files__region" / f"ingestion_date={DAY}"
    before = _stable(read_partition(spark, tmp_path, "files__region"))
    arrow_before = pq.read_table(partition).sort_by("r_regionkey").column("_record_hash").to_pylist()
    _land_region(tmp_path, "2,ASIA,z,2024-01-01 00:00:00\n", name="region-02.csv")

    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SPARK_LOCAL_IP": "127.0.0.1"}
    args = json.dumps(job_args(tmp_path, "files__region", run_id="run-killed"))
    proc = subprocess.Popen(
        [sys.executable, str(driver), args], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    staging = tmp_path / "bronze" / "files__region" / "_staging"
    try:
        deadline = time.monotonic() + 120
        while not (staging.exists() and any(staging.iterdir())):
            assert proc.poll() is None, f"driver exited early: {proc.stderr.read().decode()[-2000:]}"
            assert time.monotonic() < deadline, "staging folder never appeared"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    assert any(staging.iterdir())
    assert _stable(spark.read.parquet(str(partition))) == before
    assert _stable(read_partition(spark, tmp_path, "files__region")) == before
    assert pq.read_table(partition).sort_by("r_regionkey").column("_record_hash").to_pylist() == arrow_before
    table = ds.dataset(tmp_path / "bronze" / "files__region", format="parquet", partitioning="hive")
    assert table.count_rows() == len(before) == 2

    result = one_day(run(spark, job_args(tmp_path, "files__region", run_id="run-3")))
    assert result.rows == 3
