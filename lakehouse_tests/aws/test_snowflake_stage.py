"""The aws Snowflake path: COPY INTO from the external stage on the gold bucket (moto), fakesnow as Snowflake.

fakesnow runs the statements the aws profile sends: the external stage is recorded as given and each
COPY reads the staged Parquet from the moto gold bucket (see lakehouse/resources/snowflake.py for what
fakesnow does and does not emulate). Only the storage integration itself is not exercised: fakesnow
ignores it, so its presence is asserted on the stage DDL.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_scripts.common import writer
from glue_scripts.common.fs import filesystem_for
from lakehouse.resources import FakesnowResource, LakehouseSnowflake, build_resources
from lakehouse.resources.io_manager import read_table
from lakehouse.settings import Settings

pytestmark = pytest.mark.aws

MART = "daily_revenue"
GRAIN = ["o_orderdate", "n_name", "c_mktsegment"]
SCHEMA = pa.schema([
    ("o_orderdate", pa.date32()), ("n_name", pa.string()), ("c_mktsegment", pa.string()),
    ("orders", pa.int64()), ("line_items", pa.int64()),
    ("gross_revenue", pa.decimal128(38, 2)), ("net_revenue", pa.decimal128(38, 4)),
])


def _mart(*rows: tuple[Any, ...]) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(SCHEMA.names, row)) for row in rows], schema=SCHEMA)


GOLD_V1 = (
    _mart((dt.date(1995, 3, 1), "FRANCE", "BUILDING", 3, 7, Decimal("1234.56"), Decimal("1100.1234")),
          (dt.date(1995, 3, 1), 'O"HARA, select', "MACHINERY", 1, 1, Decimal("0.01"), Decimal("0.0095"))),
    _mart((dt.date(1995, 3, 2), "FRANCE", "BUILDING", 0, 0, Decimal("0.00"), Decimal("0.0000")),
          (dt.date(1996, 1, 31), "JAPAN", "HOUSEHOLD", 12, 40, Decimal("99999999.99"), Decimal("88888888.8888"))),
)
GOLD_V2 = (_mart((dt.date(1995, 3, 1), "FRANCE", "BUILDING", 4, 9, Decimal("2000.00"), Decimal("1900.5000"))),)


@pytest.fixture
def snowflake(settings: Settings, tmp_path: Path) -> FakesnowResource:
    """The aws profile's Snowflake resource, configured by build_resources, its connections answered by fakesnow."""
    aws = build_resources(settings)["snowflake"]
    return FakesnowResource(
        account="fakesnow", user="lakehouse", password="fakesnow", database=aws.database, schema=aws.schema_,
        gold_stage=aws.gold_stage, gold_uri=aws.gold_uri, storage_integration=aws.storage_integration,
        db_path=str(tmp_path / "snowflake"),
    )


def write_gold(settings: Settings, parts: tuple[pa.Table, ...]) -> list[str]:
    """Swap the mart folder in through the shared write path, one Parquet file per part; return the object URIs."""
    write = writer.begin(settings.uri("gold", MART), "")
    fs, staging = filesystem_for(write.staging_path)
    fs.create_dir(staging, recursive=True)
    for i, part in enumerate(parts):
        pq.write_table(part, f"{staging}/part-{i:05d}.parquet", filesystem=fs)
    writer.commit(write)
    return [settings.uri("gold", MART, f"part-{i:05d}.parquet") for i in range(len(parts))]


def gold_rows(settings: Settings) -> list[tuple[Any, ...]]:
    """The gold mart as read from S3, rows in grain order."""
    return sorted(tuple(r.values()) for r in read_table(settings.uri("gold", MART)).to_pylist())


def snowflake_rows(snowflake: LakehouseSnowflake) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The Snowflake table's column names and rows in grain order."""
    with snowflake.get_connection() as conn:
        cur = conn.cursor().execute(f'SELECT * FROM "{MART.upper()}" ORDER BY 1, 2, 3')
        return [d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()]


def load_history(snowflake: LakehouseSnowflake) -> list[tuple[str, int]]:
    """(file, rows) of every load into the mart's table, as Snowflake's LOAD_HISTORY records them."""
    with snowflake.get_connection() as conn:
        return sorted(conn.cursor().execute(
            f"SELECT FILE_NAME, ROW_COUNT FROM INFORMATION_SCHEMA.LOAD_HISTORY WHERE TABLE_NAME = '{MART.upper()}'"
        ).fetchall())


def publish(snowflake: LakehouseSnowflake, settings: Settings) -> int:
    """Publish the mart as the Snowflake asset does: the gold table read from S3, loaded from the stage."""
    return snowflake.publish(MART, read_table(settings.uri("gold", MART)), MART)


def test_aws_profile_stages_the_gold_bucket_through_the_storage_integration(
    settings: Settings, snowflake: FakesnowResource
) -> None:
    aws = build_resources(settings)["snowflake"]
    assert type(aws) is LakehouseSnowflake
    ddl = aws.external_stage_ddl()
    assert ddl == (
        f"CREATE STAGE IF NOT EXISTS LAKEHOUSE.GOLD.GOLD_STAGE URL = '{settings.uri('gold')}/' "
        "STORAGE_INTEGRATION = LAKEHOUSE_S3 FILE_FORMAT = (TYPE = PARQUET)"
    )
    with snowflake.get_connection() as conn:
        cur = conn.cursor()
        assert cur.execute(ddl).fetchone()[0] == "Stage area GOLD_STAGE successfully created."
        assert cur.execute(ddl).fetchone()[0] == "GOLD_STAGE already exists, statement succeeded."
        stages = cur.execute("SHOW STAGES IN SCHEMA LAKEHOUSE.GOLD").fetchall()
    expected = ("GOLD_STAGE", f"{settings.uri('gold')}/", "EXTERNAL", "AWS")
    assert [(s[1], s[4], s[10], s[11]) for s in stages] == [expected]


def test_publish_copies_every_file_under_the_mart_prefix(settings: Settings, snowflake: FakesnowResource) -> None:
    files = write_gold(settings, GOLD_V1)
    assert publish(snowflake, settings) == 4
    columns, rows = snowflake_rows(snowflake)
    assert columns == [name.upper() for name in SCHEMA.names]
    assert rows == gold_rows(settings) and len(rows) == 4
    assert load_history(snowflake) == sorted(zip(files, (2, 2)))


def test_republish_reloads_the_same_files_and_leaves_the_table_unchanged(
    settings: Settings, snowflake: FakesnowResource
) -> None:
    write_gold(settings, GOLD_V1)
    publish(snowflake, settings)
    before = snowflake_rows(snowflake)
    assert publish(snowflake, settings) == 4, "the DELETE emptied the table, so the COPY must have loaded again"
    assert snowflake_rows(snowflake) == before
    assert before[1] == gold_rows(settings)


def test_republish_after_gold_is_rebuilt_replaces_the_rows(settings: Settings, snowflake: FakesnowResource) -> None:
    write_gold(settings, GOLD_V1)
    publish(snowflake, settings)
    write_gold(settings, GOLD_V2)
    assert publish(snowflake, settings) == 1
    assert snowflake_rows(snowflake)[1] == gold_rows(settings) == [tuple(GOLD_V2[0].to_pylist()[0].values())]


def test_a_failed_copy_rolls_back_to_the_previous_rows(settings: Settings, snowflake: FakesnowResource) -> None:
    write_gold(settings, GOLD_V1)
    publish(snowflake, settings)
    before = snowflake_rows(snowflake)
    s3 = boto3.client("s3", region_name=settings.region, endpoint_url=settings.endpoint_url)
    s3.put_object(Bucket=settings.uri("gold").removeprefix("s3://"), Key=f"{MART}/part-99999.parquet",
                  Body=b"not parquet")
    with pytest.raises(Exception, match="part-99999.parquet"):
        snowflake.publish(MART, pa.concat_tables(GOLD_V1), MART)
    assert snowflake_rows(snowflake) == before


def test_snowflake_asset_loads_gold_from_s3_and_passes_its_reconciliation(
    settings: Settings, snowflake: FakesnowResource
) -> None:
    from lakehouse.defs.snowflake.assets import SNOWFLAKE_ASSETS

    write_gold(settings, GOLD_V1)
    asset = next(a for a in SNOWFLAKE_ASSETS if a.key == dg.AssetKey(["snowflake", MART]))
    result = dg.materialize([asset], partition_key="2024-01-02",
                            resources={"snowflake": snowflake, "warehouse": build_resources(settings)["warehouse"]})
    assert result.success
    [check] = result.get_asset_check_evaluations()
    assert check.passed, check.metadata
    [materialization] = result.asset_materializations_for_node(asset.node_def.name)
    assert materialization.metadata["dagster/row_count"].value == 4
    assert snowflake_rows(snowflake)[1] == gold_rows(settings)
