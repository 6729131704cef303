"""bronze_ingest_files: raw strings kept exactly, metadata, drift, wrong column counts, bad files quarantined."""

from __future__ import annotations

import json
from pathlib import Path

from pyspark.sql import SparkSession

from glue_scripts.common.reports import BronzeReport
from glue_scripts.common.specs import BRONZE_BY_NAME, BRONZE_METADATA_COLUMNS
from glue_scripts.jobs.bronze_ingest_files import run
from lakehouse_tests.glue_scripts.helpers import DAY, job_args, land, one_day, read_partition

REGION_HEADER = "r_regionkey,r_name,r_comment,updated_at\n"


def _by_key(df, key: str) -> dict:
    return {r[key]: r.asDict() for r in df.collect()}


def test_csv_keeps_raw_strings_and_adds_metadata(spark: SparkSession, tmp_path: Path) -> None:
    land(tmp_path / "landing", "files", "region", "region-a.csv", REGION_HEADER
         + '0,AFRICA,"lar deposits, ""quoted"" ",2024-01-01 00:00:00\n'
         + ' 1 ,america,  padded comment ,01/02/2024\n')
    land(tmp_path / "landing", "files", "region", "region-b.csv", REGION_HEADER
         + '0,AFRICA,"lar deposits, ""quoted"" ",2024-01-01 00:00:00\n'
         + '0,AFRICA,"lar deposits, ""quoted""",2024-01-01 00:00:00\n')
    report = run(spark, job_args(tmp_path, "files__region"))
    result = one_day(report)
    df = read_partition(spark, tmp_path, "files__region")
    spec = BRONZE_BY_NAME["files__region"]
    assert df.columns == [*spec.columns, "_corrupt_record", "_defects", *BRONZE_METADATA_COLUMNS]
    assert all(t == "string" for n, t in df.dtypes if n != "_ingested_at")
    assert dict(df.dtypes)["_ingested_at"] == "timestamp"
    rows = sorted(df.collect(), key=lambda r: (r["_source_ref"], r["r_comment"]))
    padded = next(r for r in rows if r["r_name"] == "america")
    assert (padded["r_regionkey"], padded["r_comment"], padded["updated_at"]) == (" 1 ", "  padded comment ", "01/02/2024")
    first = [r for r in rows if r["r_comment"] == 'lar deposits, "quoted" ']
    assert len(first) == 2 and first[0]["updated_at"] == "2024-01-01 00:00:00"
    assert first[0]["_record_hash"] == first[1]["_record_hash"]
    other = next(r for r in rows if r["r_comment"] == 'lar deposits, "quoted"')
    assert other["_record_hash"] != first[0]["_record_hash"]
    assert len({r["_record_hash"] for r in rows}) == 3
    assert {r["_source_system"] for r in rows} == {"files"}
    assert {r["_ingestion_date"] for r in rows} == {DAY}
    assert {r["_run_id"] for r in rows} == {"run-1"}
    assert {r["_source_ref"].rsplit("/", 1)[-1] for r in rows} == {"region-a.csv", "region-b.csv"}
    assert all(r["_corrupt_record"] is None for r in rows)
    assert (result.rows, result.source_rows, result.corrupt_files) == (4, 4, ())
    assert ("r_comment", "string") in result.schema
    assert BronzeReport.from_json(report.to_json()) == report


def test_csv_schema_drift_keeps_extra_column(spark: SparkSession, tmp_path: Path) -> None:
    header = ",".join(BRONZE_BY_NAME["files__part"].columns)
    row = "1,goldenrod,Manufacturer#1,Brand#13,PROMO BURNISHED COPPER,7,JUMBO PKG,901.00,ly. slyly ironi,2024-01-02 01:00:00"
    land(tmp_path / "landing", "files", "part", "part-01.csv", f"{header}\n{row}\n")
    land(tmp_path / "landing", "files", "part", "part-02.csv", f"{header},p_extra\n{row},surplus\n")
    run(spark, job_args(tmp_path, "files__part"))
    df = read_partition(spark, tmp_path, "files__part")
    assert "p_extra" in df.columns
    values = {r["_source_ref"].rsplit("/", 1)[-1]: r for r in df.collect()}
    assert values["part-02.csv"]["p_extra"] == "surplus"
    assert values["part-01.csv"]["p_extra"] is None
    assert values["part-02.csv"]["p_retailprice"] == "901.00"
    assert values["part-01.csv"]["_corrupt_record"] is None and values["part-02.csv"]["_corrupt_record"] is None


def test_csv_wrong_column_count_lines_are_kept_raw(spark: SparkSession, tmp_path: Path) -> None:
    short, long = "2,ASIA,ges. thinly even", '3,EUROPE,"ly final, courts",2024-01-01 00:00:00,EXTRA'
    land(tmp_path / "landing", "files", "region", "region.csv", REGION_HEADER
         + '1,AMERICA,"hs use, ironic",2024-01-01 00:00:00\n' + short + "\n" + long + "\n")
    result = one_day(run(spark, job_args(tmp_path, "files__region")))
    rows = _by_key(read_partition(spark, tmp_path, "files__region"), "r_regionkey")
    assert result.rows == result.source_rows == 3
    assert rows["1"]["_corrupt_record"] is None and rows["1"]["r_comment"] == "hs use, ironic"
    assert rows["2"]["_corrupt_record"] == short
    assert rows["3"]["_corrupt_record"] == long
    assert rows["2"]["_record_hash"] != rows["3"]["_record_hash"]


def test_jsonl_keeps_number_text_and_corrupt_lines(spark: SparkSession, tmp_path: Path) -> None:
    lines = [
        '{"s_suppkey": 1, "s_name": " Supplier#000000001 ", "s_acctbal": 5755.90, "s_comment": null,'
        ' "updated_at": "01/02/2024", "s_new": true}',
        '{"s_suppkey": "2", "s_acctbal": "-12.5e1"}',
        "{not json",
        "",
    ]
    land(tmp_path / "landing", "files", "supplier", "supplier-01.jsonl", "\n".join(lines) + "\n")
    result = one_day(run(spark, job_args(tmp_path, "files__supplier")))
    df = read_partition(spark, tmp_path, "files__supplier")
    spec = BRONZE_BY_NAME["files__supplier"]
    assert df.columns[: len(spec.columns)] == list(spec.columns)
    rows = {r["s_suppkey"]: r for r in df.collect()}
    assert result.rows == result.source_rows == 3
    assert rows["1"]["s_acctbal"] == "5755.90" and rows["1"]["s_name"] == " Supplier#000000001 "
    assert rows["1"]["s_comment"] is None and rows["1"]["updated_at"] == "01/02/2024"
    assert rows["1"]["s_new"] == "true" and rows["2"]["s_new"] is None
    assert rows["2"]["s_acctbal"] == "-12.5e1"
    assert rows[None]["_corrupt_record"] == "{not json"


def test_invalid_utf8_file_is_quarantined_and_the_rest_ingested(spark: SparkSession, tmp_path: Path) -> None:
    land(tmp_path / "landing", "files", "region", "region-good.csv", REGION_HEADER + "0,AFRICA,x,2024-01-01 00:00:00\n")
    bad_bytes = (REGION_HEADER + "1,AM\xc9RICA,y,2024-01-01 00:00:00\n").encode("latin-1")
    bad = land(tmp_path / "landing", "files", "region", "region-bad.csv", bad_bytes)
    result = one_day(run(spark, job_args(tmp_path, "files__region", run_id="run-q")))
    df = read_partition(spark, tmp_path, "files__region")
    assert [r["r_name"] for r in df.collect()] == ["AFRICA"]
    assert result.rows == result.source_rows == 1
    assert len(result.corrupt_files) == 1
    entry = result.corrupt_files[0]
    assert entry.path.endswith("region-bad.csv") and "UTF-8" in entry.reason
    qdir = tmp_path / "quarantine" / "_files" / "files__region" / f"ingestion_date={DAY}"
    assert (qdir / "region-bad.csv").read_bytes() == bad.read_bytes() == bad_bytes
    reason = json.loads((qdir / "region-bad.csv.reason.json").read_text())
    assert reason["run_id"] == "run-q" and "UTF-8" in reason["reason"] and reason["path"].endswith("region-bad.csv")


def test_empty_partition_writes_empty_table(spark: SparkSession, tmp_path: Path) -> None:
    result = one_day(run(spark, job_args(tmp_path, "files__nation")))
    assert result.rows == result.source_rows == 0
    assert read_partition(spark, tmp_path, "files__nation").columns[0] == "n_nationkey"
