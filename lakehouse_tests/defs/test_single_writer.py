"""Materializations of one silver partition against its writer lease: refused at once while another run holds it
(lock wait 0), serialized when two start together, and silver ends equal to a single run."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import dagster as dg
import pytest
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import SparkSession

from glue_scripts.common.locks import hold, targets
from glue_scripts.common.session import local_spark_conf
from glue_scripts.jobs import bronze_ingest_files, silver_build
from lakehouse.defs.silver.assets import SILVER_ASSETS
from lakehouse.resources import LocalGlueJobs, LocalMetrics, Warehouse
from lakehouse.resources.catalog import LocalCatalog
from lakehouse_tests.glue_scripts.helpers import DAY, job_args, land

LAYERS = ("landing", "bronze", "silver", "gold", "quarantine")
REGION = dg.AssetKey(["silver", "region"])
VOLATILE = ("_run_id", "_ingested_at")


def _bronze_region(root: Path, spark: SparkSession) -> None:
    land(root / "landing", "files", "region", "region-01.csv",
         "r_regionkey,r_name,r_comment,updated_at\n0,africa,x,2024-01-02 00:00:00\n1,AMERICA,y,2024-01-02 01:00:00\n"
         "1,AMERICA,y2,2024-01-02 02:00:00\n")
    bronze_ingest_files.run(spark, job_args(root, "files__region"))


def _materialize(root: Path, wait: float) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [a for a in SILVER_ASSETS if a.key == REGION], partition_key=DAY, raise_on_error=False,
        resources={
            "glue": LocalGlueJobs(pyspark=LazyPySparkResource(spark_config=local_spark_conf()), lock_wait_seconds=wait,
                                  engine="duckdb"),
            "warehouse": Warehouse(**{layer: str(root / layer) for layer in LAYERS}),
            "catalog": LocalCatalog(path=str(root / "catalog")), "metrics": LocalMetrics(path=str(root / "metrics.jsonl")),
        },
    )


def _rows(spark: SparkSession, root: Path, layer: str) -> list[tuple]:
    df = spark.read.parquet(str(root / layer / "region"))
    return sorted(tuple(r) for r in df.drop(*VOLATILE).collect())


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    return "\n".join(part.message for part in (error, error.cause) if part is not None)


def test_concurrent_materializations_of_one_silver_partition_serialize(
    spark: SparkSession, one_shuffle_partition: None, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _bronze_region(tmp_path, spark)
    (target,) = targets({"table": "region", "ingestion_date": DAY, "silver_path": str(tmp_path / "silver"),
                         "quarantine_path": str(tmp_path / "quarantine")})
    with hold(target, "run-backfill", wait=0):
        refused = _materialize(tmp_path, wait=0)
    assert not refused.success
    message = _failure_text(refused)
    assert "silver/region every partition (silver and quarantine) is being written by run run-backfill" in message

    results: list[dg.ExecuteInProcessResult] = []
    threads = [threading.Thread(target=lambda: results.append(_materialize(tmp_path, wait=600))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert [r.success for r in results] == [True, True]
    waits = re.findall(r"waiting up to 600 s for the writer lease: silver/region .* by run (\S+) ", capfd.readouterr().err)
    assert len(waits) == 1 and waits[0] in {r.run_id for r in results}, "one run waited for the other's lease"
    assert not Path(target.lock_path).exists() and not list((tmp_path / "silver" / "region" / "_staging").glob("*"))

    single = tmp_path / "single"
    silver_build.run(spark, {"table": "region", "ingestion_date": DAY, "bronze_path": str(tmp_path / "bronze"),
                             "silver_path": str(single / "silver"), "quarantine_path": str(single / "quarantine"),
                             "run_id": "single", "quality": "false", "engine": "duckdb"})
    for layer in ("silver", "quarantine"):
        assert _rows(spark, tmp_path, layer) == _rows(spark, single, layer)
    assert len(_rows(spark, tmp_path, "silver")) == 2
