"""GlueCatalog on the emulated account: tables and partitions registered in moto's Glue Data Catalog, the crawler.

Tables are written as Parquet to the moto bronze bucket and registered by `GlueCatalog.refresh`; each
test reads back what Glue holds with a plain boto3 client. Crawler runs are slowed with moto's state
manager (`glue::crawl`, time-based progression) to exercise polling, a crawler already running and the
timeout; moto cannot make a crawl fail, so the FAILED branch is not exercised here.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_scripts.common.fs import filesystem_for
from lakehouse.resources.catalog import (
    PARQUET_INPUT, PARQUET_OUTPUT, PARQUET_SERDE, CrawlerTimeout, GlueCatalog, TableEntry,
)

pytestmark = pytest.mark.aws

CRAWLER = "lakehouse-bronze-crawler"
TABLE = "db__orders"


@pytest.fixture
def env(aws_account: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The emulated account's environment, exported so pyarrow's S3 filesystem reaches moto."""
    for name, value in aws_account.items():
        monkeypatch.setenv(name, value)
    return aws_account


@pytest.fixture
def glue(env: dict[str, str]) -> Any:
    """A plain boto3 Glue client on the emulated account, to read back what the catalog holds."""
    return boto3.client("glue", region_name=env["AWS_REGION"], endpoint_url=env["AWS_ENDPOINT_URL"])


@pytest.fixture
def slow_crawls(env: dict[str, str]) -> Iterator[Any]:
    """A setter for how many seconds a moto crawl stays RUNNING; the default (immediate) is restored after."""

    def post(path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(f"{env['AWS_ENDPOINT_URL']}/moto-api/state-manager/{path}",
                                         data=json.dumps(body).encode(), method="POST")
        urllib.request.urlopen(request, timeout=10).read()

    def running_for(seconds: float) -> None:
        post("set-transition", {"model_name": "glue::crawl",
                                "transition": {"progression": "time", "seconds": seconds}})

    yield running_for
    post("unset-transition", {"model_name": "glue::crawl"})


def table_uri(env: dict[str, str]) -> str:
    return f"s3://{env['LAKEHOUSE_BRONZE_BUCKET']}/{TABLE}"


def write_partition(env: dict[str, str], day: str, table: pa.Table) -> None:
    """One Parquet file under `<table>/ingestion_date=<day>/` in the bronze bucket."""
    fs, path = filesystem_for(f"{table_uri(env)}/ingestion_date={day}")
    fs.create_dir(path, recursive=True)
    pq.write_table(table, f"{path}/part-00000.parquet", filesystem=fs)


def delete_partition(env: dict[str, str], day: str) -> None:
    fs, path = filesystem_for(f"{table_uri(env)}/ingestion_date={day}")
    fs.delete_dir(path)


def orders(n: int, with_comment: bool = False) -> pa.Table:
    columns: dict[str, pa.Array] = {
        "o_orderkey": pa.array(range(n), pa.int64()),
        "o_totalprice": pa.array([f"{i}.25" for i in range(n)], pa.string()).cast(pa.decimal128(12, 2)),
        "o_orderdate": pa.array([19000 + i for i in range(n)], pa.int32()).cast(pa.date32()),
        "_ingested_at": pa.array([1_700_000_000_000_000] * n, pa.timestamp("us")),
        "o_quantity": pa.array(range(n), pa.int32()),
        "o_valid": pa.array([True] * n),
    }
    if with_comment:
        columns["o_comment"] = pa.array(["x"] * n)
    return pa.table(columns)


def catalog(env: dict[str, str], **options: Any) -> GlueCatalog:
    return GlueCatalog(region=env["AWS_REGION"], endpoint_url=env["AWS_ENDPOINT_URL"], poll_seconds=0.05, **options)


def partitions(glue: Any) -> dict[tuple[str, ...], dict[str, Any]]:
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName="bronze", TableName=TABLE)
    return {tuple(p["Values"]): p for page in pages for p in page["Partitions"]}


def crawls(glue: Any) -> list[dict[str, Any]]:
    return glue.list_crawls(CrawlerName=CRAWLER)["Crawls"]


EXPECTED_COLUMNS = [
    ("o_orderkey", "bigint"), ("o_totalprice", "decimal(12,2)"), ("o_orderdate", "date"),
    ("_ingested_at", "timestamp"), ("o_quantity", "int"), ("o_valid", "boolean"),
]


def test_refresh_registers_the_table_with_types_partitions_serde_and_location(env: dict[str, str], glue: Any) -> None:
    for day in ("2024-01-01", "2024-01-02"):
        write_partition(env, day, orders(3))
    entry = catalog(env).refresh(None, "bronze", TABLE, table_uri(env))

    table = glue.get_table(DatabaseName="bronze", Name=TABLE)["Table"]
    sd = table["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == EXPECTED_COLUMNS
    assert table["PartitionKeys"] == [{"Name": "ingestion_date", "Type": "string"}]
    assert table["TableType"] == "EXTERNAL_TABLE" and table["Parameters"]["classification"] == "parquet"
    assert sd["Location"] == f"{table_uri(env)}/"
    assert (sd["InputFormat"], sd["OutputFormat"], sd["SerdeInfo"]["SerializationLibrary"]) == (
        PARQUET_INPUT, PARQUET_OUTPUT, PARQUET_SERDE)
    held = partitions(glue)
    assert sorted(held) == [("2024-01-01",), ("2024-01-02",)]
    assert held[("2024-01-02",)]["StorageDescriptor"]["Location"] == f"{table_uri(env)}/ingestion_date=2024-01-02/"
    assert held[("2024-01-02",)]["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE

    expected = TableEntry("bronze", TABLE, table_uri(env), EXPECTED_COLUMNS, ["ingestion_date"],
                          ["ingestion_date=2024-01-01", "ingestion_date=2024-01-02"])
    assert entry == expected
    assert catalog(env).tables("bronze") == [expected]
    assert expected in catalog(env).tables()


def test_refresh_adds_only_missing_partitions_evolves_columns_and_drops_vanished_partitions(
    env: dict[str, str], glue: Any
) -> None:
    for day in ("2024-01-01", "2024-01-02"):
        write_partition(env, day, orders(2))
    catalog(env).refresh(None, "bronze", TABLE, table_uri(env))
    # A marker on a registered partition survives only if refresh leaves that partition alone.
    kept = partitions(glue)[("2024-01-01",)]
    glue.update_partition(DatabaseName="bronze", TableName=TABLE, PartitionValueList=["2024-01-01"],
                          PartitionInput={"Values": ["2024-01-01"], "StorageDescriptor": kept["StorageDescriptor"],
                                          "Parameters": {"marker": "untouched"}})
    write_partition(env, "2024-01-03", orders(2, with_comment=True))
    delete_partition(env, "2024-01-02")

    entry = catalog(env).refresh(None, "bronze", TABLE, table_uri(env))

    held = partitions(glue)
    assert sorted(held) == [("2024-01-01",), ("2024-01-03",)]
    assert held[("2024-01-01",)]["Parameters"] == {"marker": "untouched"}
    columns = glue.get_table(DatabaseName="bronze", Name=TABLE)["Table"]["StorageDescriptor"]["Columns"]
    assert columns[-1] == {"Name": "o_comment", "Type": "string"}
    assert entry is not None and entry.partitions == ["ingestion_date=2024-01-01", "ingestion_date=2024-01-03"]


BATCHES: list[int] = []


class RecordingGlueCatalog(GlueCatalog):
    """GlueCatalog whose Glue clients record the size of each BatchCreatePartition request."""

    def _glue(self) -> Any:
        client = super()._glue()
        client.meta.events.register(
            "provide-client-params.glue.BatchCreatePartition",
            lambda params, **_: BATCHES.append(len(params["PartitionInputList"])),
        )
        return client


def test_partitions_are_created_in_batches_of_at_most_100(env: dict[str, str], glue: Any) -> None:
    days = pa.array([f"2023-{m:02d}-{d:02d}" for m in range(1, 8) for d in range(1, 31)][:205])
    table = orders(205).append_column("ingestion_date", days)
    fs, path = filesystem_for(table_uri(env))
    pq.write_to_dataset(table, path, filesystem=fs, partition_cols=["ingestion_date"])
    BATCHES.clear()

    RecordingGlueCatalog(region=env["AWS_REGION"], endpoint_url=env["AWS_ENDPOINT_URL"]).refresh(
        None, "bronze", TABLE, table_uri(env))

    assert BATCHES == [100, 100, 5]
    assert len(partitions(glue)) == 205


def test_refresh_of_an_empty_location_removes_the_table(env: dict[str, str], glue: Any) -> None:
    write_partition(env, "2024-01-01", orders(1))
    catalog(env).refresh(None, "bronze", TABLE, table_uri(env))
    delete_partition(env, "2024-01-01")
    assert catalog(env).refresh(None, "bronze", TABLE, table_uri(env)) is None
    assert catalog(env).tables("bronze") == []
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_table(DatabaseName="bronze", Name=TABLE)


def test_refresh_runs_the_layer_crawler_once_and_waits_until_it_is_ready(
    env: dict[str, str], glue: Any, slow_crawls: Any
) -> None:
    slow_crawls(0.5)
    write_partition(env, "2024-01-01", orders(1))
    started = time.monotonic()
    catalog(env).refresh(None, "bronze", TABLE, table_uri(env))
    assert time.monotonic() - started >= 0.5, "refresh returned before the crawl could have finished"
    assert glue.get_crawler(Name=CRAWLER)["Crawler"]["State"] == "READY"
    assert [c["State"] for c in crawls(glue)] == ["COMPLETED"]
    assert [c["State"] for c in glue.list_crawls(CrawlerName="lakehouse-silver-crawler")["Crawls"]] == []


def test_refresh_without_the_crawler_registers_directly_and_starts_nothing(env: dict[str, str], glue: Any) -> None:
    write_partition(env, "2024-01-01", orders(1))
    catalog(env, run_crawler=False).refresh(None, "bronze", TABLE, table_uri(env))
    assert sorted(partitions(glue)) == [("2024-01-01",)]
    assert crawls(glue) == []


def test_a_crawler_already_running_is_waited_out_then_started_again(
    env: dict[str, str], glue: Any, slow_crawls: Any
) -> None:
    slow_crawls(1.0)
    write_partition(env, "2024-01-01", orders(1))
    glue.start_crawler(Name=CRAWLER)
    assert glue.get_crawler(Name=CRAWLER)["Crawler"]["State"] == "RUNNING"

    catalog(env).refresh(None, "bronze", TABLE, table_uri(env))

    first, ours = sorted(crawls(glue), key=lambda c: c["StartTime"])
    assert (first["State"], ours["State"]) == ("COMPLETED", "COMPLETED")
    gap = (ours["StartTime"] - first["StartTime"]).total_seconds()
    assert gap >= 0.9, f"our crawl started {gap:.2f}s after the running one, before it could have finished"


def test_a_crawler_that_does_not_finish_times_out_naming_it_after_registering_the_table(
    env: dict[str, str], glue: Any, slow_crawls: Any
) -> None:
    slow_crawls(600)
    write_partition(env, "2024-01-01", orders(1))
    started = time.monotonic()
    message = rf"Glue crawler {CRAWLER} did not finish within 0.3 seconds \(state RUNNING, crawl [0-9a-f-]{{36}}\)"
    with pytest.raises(CrawlerTimeout, match=message):
        catalog(env, crawler_timeout_seconds=0.3).refresh(None, "bronze", TABLE, table_uri(env))
    assert time.monotonic() - started < 5
    assert sorted(partitions(glue)) == [("2024-01-01",)]
