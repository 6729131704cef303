"""records_accounted_for: the parsers' own count against the rows read back from Parquet fails on a doubled read."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from glue_scripts.common import bronze_arrow
from glue_scripts.common.bronze_job import bronze_args
from glue_scripts.common.landing_job import ingest
from glue_scripts.common.reports import BronzeDay
from glue_scripts.common.specs import BRONZE_BY_NAME
from lakehouse.defs.bronze.checks import evaluate
from lakehouse_tests.glue_scripts.helpers import job_args, land

REGION = dg.AssetKey(["bronze", "files__region"])
HEADER = "r_regionkey,r_name,r_comment,updated_at\n"


def _accounted(result: BronzeDay) -> dg.AssetCheckResult:
    results = evaluate(BRONZE_BY_NAME["files__region"], REGION, result, None)
    return next(r for r in results if r.check_name == "records_accounted_for")


def test_accounting_passes_on_a_real_read_and_fails_when_the_files_are_read_twice(tmp_path: Path) -> None:
    land(tmp_path / "landing", "files", "region", "region-1.csv", HEADER + "0,A,x,d\n1,B,y,d\n")
    land(tmp_path / "landing", "files", "region", "region-2.csv", HEADER + "2,C,z,d\n" + "3," + "w" * 2000 + ",c,d\n")
    job = bronze_args(job_args(tmp_path, "files__region"), "bronze_ingest_files")
    result = ingest(job, str(tmp_path / "landing"), limit=1000)
    assert result.landing is not None
    assert (result.landing.records_read, result.rows, result.landing.records_rejected) == (4, 3, 1)
    assert _accounted(result).passed

    written = pq.read_table(result.path)
    doubled = bronze_arrow.write(pa.concat_tables([written, written]), job.bronze_path, "files__region", job.partition)
    check = _accounted(replace(result, rows=doubled["rows"], bytes=doubled["bytes"]))
    assert not check.passed and check.metadata["rows_written"].value == 6
