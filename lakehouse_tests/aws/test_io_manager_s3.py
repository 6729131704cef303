"""The aws profile's Parquet IO manager on the emulated account: s3:// layers, partitions, SSE-KMS objects.

The objects are encrypted by the gold bucket's default encryption (the template's KMS key), which moto
applies to PutObject, multipart uploads and CopyObject alike: pyarrow's S3 client, behind the shared
write path, sends no encryption headers of its own.
"""

from typing import Any

import boto3
import dagster as dg
import pandas as pd
import pytest

from lakehouse.resources import ParquetIOManager, Warehouse, build_resources
from lakehouse.resources.io_manager import read_table
from lakehouse.settings import Settings

pytestmark = pytest.mark.aws

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", fmt="%Y-%m-%d")


@dg.asset(key=["gold", "sales"], partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def sales(context: dg.AssetExecutionContext) -> pd.DataFrame:
    days = context.partition_keys
    return pd.DataFrame({"ingestion_date": days, "amount": [float(i + 1) for i in range(len(days))]})


@dg.asset(key=["gold", "sales_report"], ins={"sales": dg.AssetIn(key=["gold", "sales"])}, partitions_def=DAYS)
def sales_report(sales: pd.DataFrame) -> pd.DataFrame:
    assert isinstance(sales, pd.DataFrame)
    return sales.assign(doubled=sales["amount"] * 2)


@pytest.fixture
def resources(settings: Settings) -> dict[str, Any]:
    """The aws profile's IO manager and warehouse, as build_resources wires them."""
    built = build_resources(settings)
    assert isinstance(built["io_manager"], ParquetIOManager) and isinstance(built["warehouse"], Warehouse)
    return {"io_manager": built["io_manager"], "warehouse": built["warehouse"]}


def gold_objects(settings: Settings) -> list[dict[str, Any]]:
    """Every object in the gold bucket, with its encryption headers."""
    s3 = boto3.client("s3", region_name=settings.region, endpoint_url=settings.endpoint_url)
    bucket = settings.uri("gold").removeprefix("s3://")
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]
    return [{"key": key, **s3.head_object(Bucket=bucket, Key=key)} for key in keys]


def test_partition_range_is_split_on_s3_and_reloaded_per_partition(
    settings: Settings, resources: dict[str, Any]
) -> None:
    assert settings.uri("gold").startswith("s3://")
    tags = {"dagster/asset_partition_range_start": "2024-01-01", "dagster/asset_partition_range_end": "2024-01-03"}
    assert dg.materialize([sales], resources=resources, tags=tags).success
    data = sorted(o["key"] for o in gold_objects(settings) if o["key"].endswith(".parquet"))
    assert data == [f"sales/ingestion_date=2024-01-0{d}/part-00000.parquet" for d in (1, 2, 3)]
    result = dg.materialize([sales, sales_report], resources=resources, partition_key="2024-01-02",
                            selection=[sales_report])
    assert result.success
    report = read_table(settings.uri("gold", "sales_report")).to_pandas()
    assert report["doubled"].tolist() == [4.0]
    assert report["ingestion_date"].astype(str).tolist() == ["2024-01-02"]
    whole = read_table(settings.uri("gold", "sales"), ["2024-01-01", "2024-01-03"]).to_pandas()
    assert sorted(whole["amount"].tolist()) == [1.0, 3.0]


def test_rewritten_partition_is_replaced_and_every_object_is_kms_encrypted(
    settings: Settings, resources: dict[str, Any]
) -> None:
    for _ in range(2):
        assert dg.materialize([sales], resources=resources, partition_key="2024-01-05").success
    objects = gold_objects(settings)
    assert [o["key"] for o in objects if o["key"].endswith(".parquet")] == [
        "sales/ingestion_date=2024-01-05/part-00000.parquet"
    ]
    assert all(o["ContentLength"] == 0 for o in objects if o["key"].startswith("_staging/"))
    assert read_table(settings.uri("gold", "sales")).num_rows == 1
    assert {(o["ServerSideEncryption"], o["SSEKMSKeyId"]) for o in objects} == {("aws:kms", settings.kms_key_id)}
