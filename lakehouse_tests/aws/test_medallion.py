"""The whole medallion on the aws profile against moto: simulate → bronze → silver → gold → Snowflake.

A tiny world (SF 0.01, two ingestion days) lands in the landing bucket, the Glue jobs are deployed from
glue_scripts/, and the daily job materializes every asset over both days with the aws profile's resources,
as a backfill does: one run, one Glue run per asset, each job applying the days in order. Glue runs execute
the deployed scripts locally (LocalGlueRunner), the catalog is the Glue Data Catalog on moto, Snowflake is
fakesnow loading from the external stage on the moto gold bucket. The tests then assert on what AWS holds.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pyarrow.parquet as pq
import pytest

from glue_scripts.common.specs import BRONZE_SPECS, SILVER_SPECS
from glue_scripts.transforms.gold import mart_names
from lakehouse.definitions import DAILY_JOB
from lakehouse.defs.bronze.assets import BRONZE_ASSETS
from lakehouse.defs.gold.assets import GOLD_ASSETS
from lakehouse.defs.silver.assets import SILVER_ASSETS
from lakehouse.defs.snowflake.assets import SNOWFLAKE_ASSETS
from lakehouse.deploy import deploy_glue_jobs, job_names
from lakehouse.resources import FakesnowResource, build_resources
from lakehouse.resources.io_manager import read_table
from lakehouse.settings import Settings, load_settings
from lakehouse.sources import simulate
from lakehouse_tests.aws.conftest import SNOWFLAKE_ENV
from lakehouse_tests.aws.account import DEFAULT_TEMPLATE, deploy_template
from lakehouse_tests.aws.conftest import ENV_NAME, reset_moto
from lakehouse_tests.aws.glue_runner import LocalGlueRunner, locally_run_glue_jobs

pytestmark = [pytest.mark.aws, pytest.mark.slow]

DAYS = 2
SILVER_TABLES = [*(s.name for s in SILVER_SPECS), "web_events"]
BRONZE_TABLES = [s.name for s in BRONZE_SPECS]
PARTITION = r"ingestion_date=\d{4}-\d{2}-\d{2}"


@dataclass
class World:
    """The simulated world, the aws settings it ran under and the Dagster result of the run over its days."""

    root: Path
    manifest: dict[str, Any]
    settings: Settings
    result: dg.ExecuteInProcessResult
    started: datetime
    access_logs_bucket: str
    blocking_checks: set[str]

    def client(self, service: str) -> Any:
        """A boto3 client on the moto server."""
        return boto3.client(service, region_name=self.settings.region, endpoint_url=self.settings.endpoint_url)

    def bucket(self, layer: str) -> str:
        """The bucket name of a layer."""
        return self.settings.uri(layer).removeprefix("s3://").split("/")[0]

    def keys(self, layer: str) -> list[str]:
        """Every object key in a layer's bucket."""
        pages = self.client("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket(layer))
        return [o["Key"] for page in pages for o in page.get("Contents", [])]


def land(settings: Settings, root: Path) -> int:
    """Upload the simulated landing zone to the landing bucket, SSE-KMS; return the number of files."""
    s3 = boto3.client("s3", region_name=settings.region, endpoint_url=settings.endpoint_url)
    bucket, _, prefix = settings.uri("landing").removeprefix("s3://").partition("/")
    files = sorted(p for p in (root / "landing").rglob("*") if p.is_file())
    for path in files:
        key = f"{prefix}/{path.relative_to(root / 'landing').as_posix()}".lstrip("/")
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=settings.kms_key_id)
    return len(files)


@pytest.fixture(scope="module")
def world(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Run every asset over the simulated days on the aws profile of a fresh emulated account."""
    root = tmp_path_factory.mktemp("aws-medallion")
    reset_moto(moto_endpoint)
    account = deploy_template(moto_endpoint, DEFAULT_TEMPLATE, ENV_NAME)
    with pytest.MonkeyPatch.context() as env:
        for name, value in {**account.env, **SNOWFLAKE_ENV, "LAKEHOUSE_ROOT": str(root)}.items():
            env.setenv(name, value)
        settings = load_settings()
        manifest = simulate(root, sf=0.01, days=DAYS, progress=False)
        assert land(settings, root) > 0
        glue = boto3.client("glue", region_name=settings.region, endpoint_url=settings.endpoint_url)
        # moto has no update_job: drop the template's jobs so deploy_glue_jobs takes its create path.
        for job in job_names():
            glue.delete_job(JobName=f"{settings.name_prefix}-{job}")
        deploy_glue_jobs(settings)
        runner = LocalGlueRunner(boto3.Session(region_name=settings.region), settings.endpoint_url, root / "glue")
        resources = build_resources(settings)
        aws_snowflake = resources["snowflake"]
        catalog = resources["catalog"]
        resources.update(
            # moto's crawls finish on the next poll; the resource's 5-second production poll would only add waiting.
            catalog=type(catalog)(**{**catalog.model_dump(), "poll_seconds": 0.1}),
            glue=locally_run_glue_jobs(resources["glue"], runner),
            snowflake=FakesnowResource(
                account="fakesnow", user="lakehouse", password="fakesnow", database=aws_snowflake.database,
                schema=aws_snowflake.schema_, gold_stage=aws_snowflake.gold_stage, gold_uri=aws_snowflake.gold_uri,
                storage_integration=aws_snowflake.storage_integration, db_path=str(root / "snowflake"),
            ),
        )
        defs = dg.Definitions(assets=[*BRONZE_ASSETS, *SILVER_ASSETS, *GOLD_ASSETS, *SNOWFLAKE_ASSETS],
                              jobs=[DAILY_JOB], resources=resources)
        job, graph = defs.resolve_job_def(DAILY_JOB.name), defs.resolve_asset_graph()
        blocking = {f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys
                    if graph.get_check_spec(c).blocking}
        started = datetime.now(timezone.utc)
        days = manifest["days"]
        with dg.DagsterInstance.ephemeral() as instance:
            result = job.execute_in_process(instance=instance, raise_on_error=False, tags={
                "dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]})
        runner.close()
        yield World(root, manifest, settings, result, started, account.outputs["AccessLogsBucketName"],
                    blocking)


def test_one_run_over_the_days_materializes_every_asset_and_passes_its_blocking_checks(world: World) -> None:
    result = world.result
    failures = [f"{e.step_key}: {e.step_failure_data.error.message[:400] if e.step_failure_data.error else ''}"
                for e in result.get_step_failure_events()]
    assert result.success, failures
    materialized = {(e.asset_key.to_user_string(), e.partition) for e in result.get_asset_materialization_events()}
    tables = [*(f"bronze/{t}" for t in BRONZE_TABLES), *(f"silver/{t}" for t in SILVER_TABLES),
              *(f"{layer}/{m}" for layer in ("gold", "snowflake") for m in mart_names())]
    assert materialized == {(t, day) for t in tables for day in world.manifest["days"]}
    failed = {f"{e.asset_key.to_user_string()}:{e.check_name}"
              for e in result.get_asset_check_evaluations() if not e.passed}
    assert failed & world.blocking_checks == set()
    # the simulator's seeded faults are caught: a drifted column in files__part and an unreadable log file
    seeded = {"bronze/files__part:schema_matches_previous_partition", "bronze/logs__web_access:has_no_corrupt_files"}
    assert seeded <= failed


def test_every_object_in_every_bucket_is_encrypted_with_the_lakehouse_key(world: World) -> None:
    """SSE-KMS with the lakehouse key everywhere but in the access-log bucket: S3 delivers its logs only to SSE-S3."""
    s3 = world.client("s3")
    checked: dict[str, int] = {}
    for bucket in (b["Name"] for b in s3.list_buckets()["Buckets"]):
        expected = ("AES256", None) if bucket == world.access_logs_bucket else ("aws:kms", world.settings.kms_key_id)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                head = s3.head_object(Bucket=bucket, Key=obj["Key"])
                encryption = (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId"))
                assert encryption == expected, f"s3://{bucket}/{obj['Key']}"
                checked[bucket] = checked.get(bucket, 0) + 1
    layers = ("landing", "bronze", "silver", "gold", "quarantine")
    assert all(checked.get(world.bucket(layer)) for layer in layers), checked


def test_each_layer_holds_its_tables_under_their_prefixes(world: World) -> None:
    days = "|".join(world.manifest["days"])
    marts = "|".join(mart_names())
    patterns = {
        "bronze": rf"({'|'.join(BRONZE_TABLES)})/ingestion_date=({days})/part-[^/]+\.parquet",
        "silver": rf"({'|'.join(SILVER_TABLES)})/ingestion_date=({days})/part-[^/]+\.parquet",
        "quarantine": rf"(({'|'.join(SILVER_TABLES)})/ingestion_date=({days})/part-[^/]+\.parquet"
                      rf"|_files/({'|'.join(BRONZE_TABLES)})/ingestion_date=({days})/[^/]+)",
        "gold": rf"(({marts})/part-[^/]+\.parquet|_partials/({marts})/ingestion_date=({days})/[^/]+)",
    }
    for layer, pattern in patterns.items():
        keys = world.keys(layer)
        assert [k for k in keys if not re.fullmatch(pattern, k)] == [], layer
        tables = {k.split("/")[0] for k in keys if not k.startswith("_")}
        expected = {"bronze": BRONZE_TABLES, "silver": SILVER_TABLES, "gold": mart_names()}.get(layer)
        if expected is not None:
            assert tables == set(expected), layer
    for spec in BRONZE_SPECS:
        days_written = {k.split("/")[1].removeprefix("ingestion_date=") for k in world.keys("bronze")
                        if k.startswith(f"{spec.name}/")}
        assert days_written == set(world.manifest["days"]), spec.name


def test_the_glue_catalog_holds_every_table_and_its_partitions(world: World) -> None:
    glue = world.client("glue")
    expected = {"bronze": BRONZE_TABLES, "silver": SILVER_TABLES, "gold": mart_names()}
    for layer, tables in expected.items():
        database = world.settings.database(layer)
        held = {t["Name"]: t for page in glue.get_paginator("get_tables").paginate(DatabaseName=database)
                for t in page["TableList"]}
        assert set(tables) <= set(held), f"{database}: missing {sorted(set(tables) - set(held))}"
        for table in tables:
            location = held[table]["StorageDescriptor"]["Location"].rstrip("/")
            assert location == world.settings.uri(layer, table), f"{database}.{table}"
            if layer == "gold":
                continue
            partitions = {tuple(p["Values"]) for page in glue.get_paginator("get_partitions").paginate(
                DatabaseName=database, TableName=table) for p in page["Partitions"]}
            on_s3 = {(m.group(1),) for k in world.keys(layer)
                     if (m := re.match(rf"{table}/ingestion_date=([^/]+)/", k))}
            assert partitions == on_s3, f"{database}.{table}"


def test_run_metrics_read_back_from_cloudwatch(world: World) -> None:
    cloudwatch = world.client("cloudwatch")
    metrics = {(m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])))
               for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace="Lakehouse")
               for m in page["Metrics"]}
    for layer, tables, name in (("bronze", BRONZE_TABLES, "rows_in"), ("silver", SILVER_TABLES, "rows_in"),
                                ("gold", mart_names(), "rows_out")):
        for table in tables:
            assert (name, (("layer", layer), ("table", table))) in metrics, f"{layer}/{table} {name}"
    delivered = {e["silver_table"]: e["totals"]["rows_delivered"] for e in world.manifest["tables"].values()}
    for table in SILVER_TABLES:
        stats = cloudwatch.get_metric_statistics(
            Namespace="Lakehouse", MetricName="rows_in", Statistics=["Sum", "SampleCount"], Period=86400,
            Dimensions=[{"Name": "layer", "Value": "silver"}, {"Name": "table", "Value": table}],
            StartTime=world.started - timedelta(hours=1), EndTime=datetime.now(timezone.utc) + timedelta(hours=1),
        )["Datapoints"]
        assert sum(p["SampleCount"] for p in stats) == 1, table  # one silver_build run over both days
        assert sum(p["Sum"] for p in stats) == delivered[table], table


def test_silver_equals_the_clean_world_in_row_counts(world: World) -> None:
    expected = {**world.manifest["tpch_rows"],
                "web_events": pq.read_metadata(world.root / world.manifest["logs"]["truth"]).num_rows}
    actual = {table: read_table(world.settings.uri("silver", table)).num_rows for table in SILVER_TABLES}
    assert actual == expected


def test_snowflake_holds_every_gold_mart(world: World) -> None:
    snowflake = FakesnowResource(account="fakesnow", user="lakehouse", password="fakesnow", database="LAKEHOUSE",
                                 schema="GOLD", db_path=str(world.root / "snowflake"))
    with snowflake.get_connection() as conn:
        cursor = conn.cursor()
        for mart in mart_names():
            gold = read_table(world.settings.uri("gold", mart)).num_rows
            assert gold > 0, mart
            assert cursor.execute(f'SELECT COUNT(*) FROM "{mart.upper()}"').fetchone()[0] == gold, mart
