"""Snowflake assets: each gold mart loaded into its own table, then reconciled with the gold Parquet."""

from collections.abc import Iterator
from decimal import Decimal

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from glue_scripts.transforms.gold import MARTS, Mart
from lakehouse.defs.common import FOLLOW_UPSTREAM, INGESTION_DAYS, OWNERS, RANGE_BACKFILL, check_events, per_day
from lakehouse.resources import LakehouseSnowflake, Warehouse
from lakehouse.resources.io_manager import read_table


def measures(table: pa.Table, mart: Mart) -> dict[str, int]:
    """The numeric non-grain columns whose totals must match between gold and Snowflake, with their scale."""
    return {f.name: f.type.scale if pa.types.is_decimal(f.type) else 0 for f in table.schema
            if f.name not in mart.grain and (pa.types.is_integer(f.type) or pa.types.is_decimal(f.type))}


def gold_totals(table: pa.Table, columns: dict[str, int]) -> dict[str, Decimal]:
    """Row count and exact sums of the gold Parquet (empty sums are 0)."""
    sums = {c: pc.sum(table[c]).as_py() for c in columns}
    return {"rows": Decimal(table.num_rows), **{c: Decimal(str(v if v is not None else 0)) for c, v in sums.items()}}


def build_snowflake_asset(mart: Mart) -> dg.AssetsDefinition:
    """Publish one gold mart to Snowflake in one transaction, with a blocking reconciliation check."""
    key = dg.AssetKey(["snowflake", mart.name])

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(["gold", mart.name])],
        partitions_def=INGESTION_DAYS,
        group_name="snowflake",
        kinds={"snowflake"},
        owners=OWNERS,
        tags={"layer": "snowflake"},
        description=f"The gold mart `{mart.name}` in Snowflake ({mart.description}) Replaced as a whole on each load.",
        metadata={"dagster/table_name": f"LAKEHOUSE.GOLD.{mart.name.upper()}"},
        check_specs=per_day([dg.AssetCheckSpec("matches_gold_parquet", asset=key, blocking=True,
                                               description="Row count and measure totals equal the gold Parquet's.")]),
        automation_condition=FOLLOW_UPSTREAM,
        backfill_policy=RANGE_BACKFILL,
    )
    def _publish(context: dg.AssetExecutionContext, snowflake: LakehouseSnowflake,
                 warehouse: Warehouse) -> Iterator[dg.MaterializeResult | dg.Output | dg.AssetCheckEvaluation]:
        table = read_table(warehouse.uri("gold", mart.name))
        loaded = snowflake.publish(mart.name, table, mart.name)
        columns = measures(table, mart)
        expected, actual = gold_totals(table, columns), snowflake.totals(mart.name, columns)
        context.log.info(f"loaded {loaded} rows into {mart.name.upper()}")
        yield dg.MaterializeResult(metadata={"dagster/row_count": loaded})
        check = dg.AssetCheckResult(
            check_name="matches_gold_parquet", asset_key=key, passed=expected == actual,
            metadata={"gold": dg.MetadataValue.json({k: str(v) for k, v in expected.items()}),
                      "snowflake": dg.MetadataValue.json({k: str(v) for k, v in actual.items()})},
        )
        # The load replaces the whole table once per run: every day of a range is judged on it.
        yield from check_events(context, {day: [check] for day in context.partition_keys})

    return _publish


SNOWFLAKE_ASSETS: list[dg.AssetsDefinition] = [build_snowflake_asset(mart) for mart in MARTS]
