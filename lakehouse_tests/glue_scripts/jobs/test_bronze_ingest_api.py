"""bronze_ingest_api: the day's window requested, every page ingested raw, cursor kept as _source_ref, no Spark."""

from __future__ import annotations

from pathlib import Path

import pytest

from glue_scripts.common.api_client import ApiError
from glue_scripts.common.specs import BRONZE_BY_NAME, BRONZE_METADATA_COLUMNS
from glue_scripts.jobs.bronze_ingest_api import run
from lakehouse_tests.glue_scripts.fake_api import TOKEN, FakeApi, serve
from lakehouse_tests.glue_scripts.helpers import job_args, no_spark, one_day, partition_rows, partition_table

RECORDS = [
    '{"c_custkey": 1, "c_name": "Customer#000000001", "c_acctbal": 711.560, "c_mktsegment": "building",'
    ' "c_phone": " 25-989-741-2988 ", "updated_at": "2024-01-02 03:00:00", "system_modstamp": "2024-01-02 03:00:01"}',
    '{"c_custkey": "2", "c_acctbal": -5e2, "c_comment": null, "loyalty": {"tier": "gold"}}',
    '{"c_custkey": 1, "c_name": "Customer#000000001", "c_acctbal": 711.560, "c_mktsegment": "building",'
    ' "c_phone": " 25-989-741-2988 ", "updated_at": "2024-01-02 03:00:00", "system_modstamp": "2024-01-02 03:00:01"}',
]


def test_api_job_ingests_every_page_raw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_TOKEN", TOKEN)
    api = FakeApi(RECORDS, faults=[(500, {})])
    with serve(api):
        result = one_day(run(no_spark(), job_args(tmp_path, "api__customers", api_url=api.url, api_token_env="CRM_TOKEN")))
    spec = BRONZE_BY_NAME["api__customers"]
    table = partition_table(tmp_path, "api__customers")
    assert table.column_names == [*spec.columns, "loyalty", *BRONZE_METADATA_COLUMNS]
    rows = sorted(table.to_pylist(), key=lambda r: (r["_source_ref"], r["c_custkey"]))
    assert [r["_source_ref"] for r in rows] == ["2", "initial", "initial"]
    first = rows[1]
    assert (first["c_acctbal"], first["c_mktsegment"], first["c_phone"]) == ("711.560", "building", " 25-989-741-2988 ")
    assert rows[2]["c_acctbal"] == "-5e2" and rows[2]["loyalty"] == '{"tier":"gold"}' and rows[2]["c_comment"] is None
    assert rows[0]["_record_hash"] == rows[1]["_record_hash"] != rows[2]["_record_hash"]
    assert {r["_source_system"] for r in rows} == {"api"}
    assert result.rows == result.source_rows == 3
    ok = [e for e in api.log if e["query"].get("cursor") is None and e is not api.log[0]][0]
    assert ok["query"]["updated_since"] == "2024-01-02 00:00:00" and ok["query"]["updated_until"] == "2024-01-03 00:00:00"


def test_api_job_failure_names_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_TOKEN", "not-the-token")
    api = FakeApi(RECORDS)
    with serve(api), pytest.raises(ApiError, match="api__customers.*401"):
        run(no_spark(), job_args(tmp_path, "api__customers", api_url=api.url, api_token_env="CRM_TOKEN"))
    assert not (tmp_path / "bronze" / "api__customers").exists()


def test_api_records_with_unusable_keys_are_kept_whole_for_quarantine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_TOKEN", TOKEN)
    records = [RECORDS[0], '{"c_custkey": 3, "C_NAME": "a", "c_name": "b"}', '{"c_custkey": 4, "_source_ref": "x"}',
               '{"C_CUSTKEY": 5, "Loyalty": "gold"}', '{"c_custkey": 6, "c_name": {"first": "n", "last": [1]}}']
    with serve(FakeApi(records)) as api:
        result = one_day(run(no_spark(), job_args(tmp_path, "api__customers", api_url=api.url, api_token_env="CRM_TOKEN")))
    rows = partition_rows(tmp_path, "api__customers")
    assert result.rows == result.source_rows == 5
    refused = sorted(r["_corrupt_record"] for r in rows if r["_defects"] == "unusable_key")
    assert refused == ['{"c_custkey": "3", "C_NAME": "a", "c_name": "b"}', '{"c_custkey": "4", "_source_ref": "x"}']
    fine = {r["c_custkey"]: r for r in rows if r["_defects"] is None}
    assert set(fine) == {"1", "5"} and fine["5"]["loyalty"] == "gold" and fine["5"]["_corrupt_record"] is None
    nested = next(r for r in rows if r["c_custkey"] == "6")
    assert nested["_defects"] == "not_a_scalar:c_name" and nested["c_name"] == '{"first":"n","last":["1"]}'  # numbers keep their text, as in JSON Lines


def test_a_day_of_only_nested_values_keeps_their_defects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_TOKEN", TOKEN)
    with serve(FakeApi([RECORDS[0], '{"c_custkey": 6, "c_name": {"first": "n"}}'])) as api:
        result = one_day(run(no_spark(), job_args(tmp_path, "api__customers", api_url=api.url, api_token_env="CRM_TOKEN")))
    table = partition_table(tmp_path, "api__customers")
    assert table.column("_defects").to_pylist() == [None, "not_a_scalar:c_name"]
    assert table.column("_corrupt_record").to_pylist() == [None, None]
    assert result.rows == 2 and ("_defects", "string") in result.schema
