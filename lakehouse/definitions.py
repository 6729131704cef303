"""The Dagster code location: every layer's assets and checks, the profile's resources, automation."""

from __future__ import annotations

import dagster as dg

from lakehouse.defs.automation import JOBS, SCHEDULES, SENSORS
from lakehouse.defs.bronze.assets import BRONZE_ASSETS
from lakehouse.defs.gold.assets import GOLD_ASSETS
from lakehouse.defs.gold.freshness import stale_marts_alert
from lakehouse.defs.silver.assets import SILVER_ASSETS
from lakehouse.defs.snowflake.assets import SNOWFLAKE_ASSETS
from lakehouse.resources import build_resources
from lakehouse.settings import Settings, load_settings

DAILY_JOB = dg.define_asset_job("lakehouse_daily", selection=dg.AssetSelection.all(), description="Every layer for one ingestion date.")


def build_definitions(settings: Settings) -> dg.Definitions:
    """Definitions for a resolved profile: same asset and resource keys in every profile."""
    return dg.Definitions(
        assets=[*BRONZE_ASSETS, *SILVER_ASSETS, *GOLD_ASSETS, *SNOWFLAKE_ASSETS],
        jobs=[DAILY_JOB, *JOBS],
        sensors=[*SENSORS, stale_marts_alert],
        schedules=SCHEDULES,
        resources=build_resources(settings),
        executor=dg.multiprocess_executor if settings.is_aws else dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Load the profile named by LAKEHOUSE_ENV; the aws profile refuses to load with variables missing."""
    return build_definitions(load_settings())
