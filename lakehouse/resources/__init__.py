"""Resources for both profiles: the same keys, local or AWS implementations chosen by the settings."""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from lakehouse.settings import LAYERS, Settings

if TYPE_CHECKING:
    from lakehouse.resources.catalog import Catalog, GlueCatalog, LocalCatalog, TableEntry
    from lakehouse.resources.glue import AwsGlueJobs, GlueJobs, GlueRun, LocalGlueJobs
    from lakehouse.resources.io_manager import ParquetIOManager
    from lakehouse.resources.local_athena import LocalAthena
    from lakehouse.resources.metrics import CloudWatchMetrics, LocalMetrics, Metrics
    from lakehouse.resources.query import BotoAthena, DuckDBAthena, QueryEngine, QueryError
    from lakehouse.resources.snowflake import FakesnowResource, LakehouseSnowflake
    from lakehouse.resources.sources import SourceSystems
    from lakehouse.resources.warehouse import Warehouse

DB_URL_ENV = "LAKEHOUSE_DB_URL"
RESOURCE_KEYS: tuple[str, ...] = ("warehouse", "glue", "catalog", "athena", "snowflake", "sources", "io_manager", "metrics")

# Imported on first use, so that `lakehouse query` can load the query engine without Spark, fakesnow or Dagster.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("Catalog", "GlueCatalog", "LocalCatalog", "TableEntry"), "catalog"),
    **dict.fromkeys(("AwsGlueJobs", "GlueJobs", "GlueRun", "LocalGlueJobs"), "glue"),
    "ParquetIOManager": "io_manager",
    **dict.fromkeys(("CloudWatchMetrics", "LocalMetrics", "Metrics"), "metrics"),
    **dict.fromkeys(("BotoAthena", "DuckDBAthena", "QueryEngine"), "query"),
    "QueryError": "athena_sql",
    **dict.fromkeys(("FakesnowResource", "LakehouseSnowflake"), "snowflake"),
    "SourceSystems": "sources",
    "Warehouse": "warehouse",
}

__all__ = [
    "Catalog", "FakesnowResource", "LakehouseSnowflake", "GlueJobs", "GlueRun", "LocalMetrics", "Metrics", "QueryEngine", "QueryError", "SourceSystems", "TableEntry",
    "ParquetIOManager", "Warehouse", "RESOURCE_KEYS", "build_resources", "query_engine",
]


def __getattr__(name: str) -> Any:
    """The exported resource classes, each imported from its module when first asked for."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


def query_engine(settings: Settings) -> LocalAthena | BotoAthena:
    """Only the query engine of a profile: locally DuckDB over the catalog files (no Dagster), on aws Athena."""
    if not settings.is_aws:
        from lakehouse.resources.local_athena import LocalAthena

        return LocalAthena.over(settings.root / "catalog")
    from lakehouse.resources.query import BotoAthena

    return BotoAthena.for_settings(settings)


def _db_url(settings: Settings) -> Any:
    """The database URL as resource config: a URL carrying credentials stays an `EnvVar`, so that Dagster
    stores only the variable's name (in run and job snapshots), never its value."""
    import dagster as dg

    from glue_scripts.common.redact import carries_secret

    if carries_secret(settings.db_url) and os.environ.get(DB_URL_ENV) == settings.db_url:
        return dg.EnvVar(DB_URL_ENV)
    return settings.db_url


def build_resources(settings: Settings) -> dict[str, Any]:
    """The resource dict for a profile; keys are identical across profiles, implementations are not."""
    import dagster as dg
    from dagster_pyspark import LazyPySparkResource

    from glue_scripts.common.session import local_spark_conf
    from lakehouse.resources.catalog import GlueCatalog, LocalCatalog
    from lakehouse.resources.glue import AwsGlueJobs, LocalGlueJobs
    from lakehouse.resources.io_manager import ParquetIOManager
    from lakehouse.resources.metrics import CloudWatchMetrics, LocalMetrics
    from lakehouse.resources.query import BotoAthena, DuckDBAthena
    from lakehouse.resources.snowflake import FakesnowResource, LakehouseSnowflake
    from lakehouse.resources.sources import SourceSystems
    from lakehouse.resources.warehouse import Warehouse

    warehouse = Warehouse(
        **{layer: settings.uri(layer) for layer in LAYERS}, kms_key_id=settings.kms_key_id
    )
    sources = SourceSystems(
        db_url=_db_url(settings),
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
        "athena": BotoAthena.for_settings(settings),
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
