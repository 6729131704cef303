"""Resources for both profiles: the same keys, local or AWS implementations chosen by the settings."""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from glue_scripts.common.session import local_spark_conf
from lakehouse.resources.catalog import Catalog, GlueCatalog, LocalCatalog, TableEntry
from lakehouse.resources.io_manager import ParquetIOManager
from lakehouse.resources.metrics import CloudWatchMetrics, LocalMetrics, Metrics
from lakehouse.resources.glue import AwsGlueJobs, GlueJobs, GlueRun, LocalGlueJobs
from lakehouse.resources.query import BotoAthena, DuckDBAthena, QueryEngine, QueryError
from lakehouse.resources.snowflake import FakesnowResource, LakehouseSnowflake
from lakehouse.resources.sources import SourceSystems
from lakehouse.resources.warehouse import Warehouse
from lakehouse.settings import LAYERS, Settings

RESOURCE_KEYS: tuple[str, ...] = ("warehouse", "glue", "catalog", "athena", "snowflake", "sources", "io_manager", "metrics")

__all__ = [
    "Catalog", "FakesnowResource", "LakehouseSnowflake", "GlueJobs", "GlueRun", "LocalMetrics", "Metrics", "QueryEngine", "QueryError", "SourceSystems", "TableEntry",
    "ParquetIOManager", "Warehouse", "RESOURCE_KEYS", "build_resources",
]


def build_resources(settings: Settings) -> dict[str, Any]:
    """The resource dict for a profile; keys are identical across profiles, implementations are not."""
    warehouse = Warehouse(
        **{layer: settings.uri(layer) for layer in LAYERS}, kms_key_id=settings.kms_key_id
    )
    sources = SourceSystems(
        db_url=settings.db_url,
        db_user=settings.db_user,
        api_url=settings.api_url,
        api_token_env=settings.api_token_env,
        root=str(settings.root),
    )
    if not settings.is_aws:
        catalog = LocalCatalog(path=str(settings.root / "catalog"))
        return {
            "warehouse": warehouse,
            "glue": LocalGlueJobs(pyspark=LazyPySparkResource(spark_config=local_spark_conf()), engine=settings.engine),
            "catalog": catalog,
            "athena": DuckDBAthena(catalog=catalog),
            "snowflake": FakesnowResource(
                account="fakesnow", user="lakehouse", password="fakesnow",
                database=settings.snowflake_database, schema="GOLD",
                db_path=str(settings.root / "snowflake"),
            ),
            "sources": sources,
            "io_manager": ParquetIOManager(warehouse=warehouse),
            "metrics": LocalMetrics(path=str(settings.root / "metrics" / "metrics.jsonl")),
        }
    glue_catalog = GlueCatalog(
        region=settings.region, endpoint_url=settings.endpoint_url, database_prefix=settings.glue_database_prefix,
        crawler_prefix=f"{settings.name_prefix}-",
        run_crawler=settings.run_crawlers, crawler_timeout_seconds=settings.crawler_timeout_seconds,
    )
    return {
        "warehouse": warehouse,
        "glue": AwsGlueJobs(
            scripts_uri=settings.scripts_uri, region=settings.region, endpoint_url=settings.endpoint_url,
            job_prefix=f"{settings.name_prefix}-",
        ),
        "catalog": glue_catalog,
        "athena": BotoAthena(
            workgroup=settings.athena_workgroup,
            output_location=settings.athena_output,
            region=settings.region,
            kms_key_id=settings.kms_key_id,
            endpoint_url=settings.endpoint_url,
        ),
        "snowflake": LakehouseSnowflake(
            account=settings.snowflake_account,
            user=settings.snowflake_user,
            password=dg.EnvVar("SNOWFLAKE_PASSWORD"),
            database=settings.snowflake_database,
            schema="GOLD",
            gold_stage=settings.snowflake_gold_stage,
            gold_uri=settings.uri("gold"),
            storage_integration=settings.snowflake_storage_integration,
            **({"warehouse": settings.snowflake_warehouse} if settings.snowflake_warehouse else {}),
        ),
        "sources": sources,
        "io_manager": ParquetIOManager(warehouse=warehouse),
        "metrics": CloudWatchMetrics(region=settings.region, endpoint_url=settings.endpoint_url),
    }
