"""The Parquet IO manager stores partitioned and unpartitioned outputs atomically and loads them as DataFrames."""


from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq

from lakehouse.resources import ParquetIOManager, Warehouse

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", fmt="%Y-%m-%d")


def _resources(root: Path) -> dict:
    warehouse = Warehouse(**{layer: str(root / layer) for layer in ("landing", "bronze", "silver", "gold", "quarantine")})
    return {"io_manager": ParquetIOManager(warehouse=warehouse), "warehouse": warehouse}


def _range(start: str, end: str) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}


@dg.asset(key=["gold", "sales"], partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def sales(context: dg.AssetExecutionContext) -> pd.DataFrame:
    days = context.partition_keys
    return pd.DataFrame({"ingestion_date": days, "amount": [float(i + 1) for i in range(len(days))]})


@dg.asset(key=["gold", "sales_report"], deps=[], ins={"sales": dg.AssetIn(key=["gold", "sales"])}, partitions_def=DAYS)
def sales_report(sales: pd.DataFrame) -> pd.DataFrame:
    assert isinstance(sales, pd.DataFrame)
    return sales.assign(doubled=sales["amount"] * 2)


def test_partition_range_is_split_by_partition_and_reloaded(tmp_path: Path) -> None:
    result = dg.materialize([sales], resources=_resources(tmp_path),
                            tags=_range("2024-01-01", "2024-01-03"))
    assert result.success
    folders = sorted(p.name for p in (tmp_path / "gold" / "sales").iterdir() if not p.name.startswith("_"))
    assert folders == ["ingestion_date=2024-01-01", "ingestion_date=2024-01-02", "ingestion_date=2024-01-03"]
    day2 = pq.read_table(tmp_path / "gold" / "sales" / "ingestion_date=2024-01-02").to_pandas()
    assert day2["amount"].tolist() == [2.0]


def test_downstream_asset_receives_only_its_partition_as_a_dataframe(tmp_path: Path) -> None:
    resources = _resources(tmp_path)
    dg.materialize([sales], resources=resources, tags=_range("2024-01-01", "2024-01-02"))
    result = dg.materialize([sales, sales_report], resources=resources, partition_key="2024-01-02",
                            selection=[sales_report])
    assert result.success
    report = pq.read_table(tmp_path / "gold" / "sales_report" / "ingestion_date=2024-01-02").to_pandas()
    assert report["doubled"].tolist() == [4.0]


def test_rewriting_a_partition_replaces_it(tmp_path: Path) -> None:
    resources = _resources(tmp_path)
    for _ in range(2):
        dg.materialize([sales], resources=resources, partition_key="2024-01-05")
    table = pq.read_table(tmp_path / "gold" / "sales" / "ingestion_date=2024-01-05")
    assert table.num_rows == 1


@dg.asset(key=["gold", "snapshot"])
def snapshot() -> pd.DataFrame:
    return pd.DataFrame({"n": [1, 2, 3]})


def test_unpartitioned_output_swaps_the_whole_table(tmp_path: Path) -> None:
    resources = _resources(tmp_path)
    for _ in range(2):
        assert dg.materialize([snapshot], resources=resources).success
    table = tmp_path / "gold" / "snapshot"
    assert pq.read_table(table).num_rows == 3
    assert not (table / "_trash").exists() and not (table / "_staging").exists()
