"""Silver is a function of bronze: restated days, re-runs and backfills in random orders end where a from-scratch
merge of the same bronze does (silver and quarantine, EXCEPT ALL both ways)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_scripts.common import silver_io
from glue_scripts.common.specs import SILVER_BY_NAME
from glue_scripts.jobs.silver_build import run
from glue_scripts.transforms.silver_merge import PARTITION, quarantine_columns, reconciliation
from glue_scripts.transforms.silver_scratch import from_scratch
from glue_scripts.transforms.silver_standardize import silver_columns
from lakehouse_tests.glue_scripts.test_silver_build import D1, D2, D3, current, write_bronze

DAYS = (D1, D2, D3)
TABLES = ("region", "nation")  # nation's foreign key n_regionkey -> region: held, released and orphaned rows
BRONZE = {"region": "files__region", "nation": "files__nation"}


def region_row(rng: random.Random, key: int, day: str) -> dict[str, str]:
    """One raw region row; few distinct values, so versions tie and identical rows recur across days."""
    hour = rng.choice(("08", "09"))
    stamp = f"{rng.choice((day, D1))} {hour}:00:00" if rng.random() > 0.1 else "not a time"
    return {"r_regionkey": str(key), "r_name": rng.choice(("africa", "asia")), "r_comment": "c", "updated_at": stamp}


def nation_row(rng: random.Random, key: int, day: str) -> dict[str, str]:
    """One raw nation row; region 4 is never delivered (held for good), region 3 only sometimes."""
    stamp = f"{rng.choice((day, D1))} {rng.choice(('08', '09'))}:00:00"
    region = rng.choice(("0", "1", "2", "3", "4", "x" if rng.random() < 0.1 else "0"))
    return {"n_nationkey": str(key) if rng.random() > 0.05 else " ", "n_name": rng.choice(("kenya", "peru")),
            "n_regionkey": region, "n_comment": "c", "updated_at": stamp}


def deliver(rng: random.Random, root: Path, table: str, day: str) -> None:
    """(Re)write bronze `table` for `day`: a random subset of keys (the rest withdrawn), sometimes a row twice."""
    keys = rng.sample(range(4 if table == "region" else 6), rng.randint(1, 3 if table == "region" else 4))
    make = region_row if table == "region" else nation_row
    rows = [make(rng, k, day) for k in keys]
    if rng.random() < 0.3:
        rows.append(dict(rows[0]))
    write_bronze(root, BRONZE[table], day, rows)


def build_days(root: Path, table: str, first: str, last: str, run_id: str) -> None:
    """silver_build for `table` over `first`..`last` (a backfill when they differ); every day must reconcile."""
    args = {"table": table, "ingestion_date": first, "bronze_path": str(root / "bronze"),
            "silver_path": str(root / "silver"), "quarantine_path": str(root / "quarantine"), "run_id": run_id,
            "quality": "false", **({"ingestion_date_end": last} if last != first else {})}
    result = run(silver_session(), args)
    for day_result in (result["days"].values() if last != first else [result]):
        assert reconciliation(day_result)["reconciles"], day_result
        assert day_result["bytes"] > 0


def silver_session() -> SparkSession:
    from glue_scripts.common.session import get_spark

    return get_spark()


def reference(spark: SparkSession, root: Path) -> dict[str, tuple[DataFrame, DataFrame]]:
    """From-scratch (silver, quarantine) of each table with bronze, from all its bronze partitions, region first."""
    out: dict[str, tuple[DataFrame, DataFrame]] = {}
    refs: dict[str, DataFrame | None] = {}
    for table in TABLES:
        spec = SILVER_BY_NAME[table]
        bronze_table = str(root / "bronze" / BRONZE[table])
        parts = [silver_io.read_bronze_day(spark, bronze_table, day) for day in silver_io.days(bronze_table)]
        if not parts:
            continue
        out[table] = from_scratch(spec, parts, refs)
        refs[table] = out[table][0]
    return out


def assert_same(actual: DataFrame, expected: DataFrame, what: str) -> None:
    """EXCEPT ALL both ways is empty."""
    extra, missing = actual.exceptAll(expected).collect(), expected.exceptAll(actual).collect()
    assert not extra and not missing, f"{what}: not in from-scratch {extra}; missing {missing}"


def assert_from_scratch(spark: SparkSession, root: Path) -> dict[str, int]:
    """Silver and quarantine of every table equal the from-scratch merge (partition = the row's batch)."""
    sizes = {}
    for table, (silver, quarantine) in reference(spark, root).items():
        spec = SILVER_BY_NAME[table]
        columns = [c for c in silver_columns(spec) if c != "_run_id"]
        actual = silver_io.read_partitioned(spark, str(root / "silver" / table))
        assert_same(actual.select(*columns, PARTITION),
                    silver.select(*columns, F.col("_ingestion_date").alias(PARTITION)), f"silver {table}")
        q_columns = [c for c in quarantine_columns(spec) if c != "_run_id"]
        actual_q = silver_io.read_partitioned(spark, str(root / "quarantine" / table))
        assert_same(actual_q.select(*q_columns, PARTITION),
                    quarantine.withColumnRenamed("_ingestion_date", PARTITION).select(*q_columns, PARTITION),
                    f"quarantine {table}")
        sizes[table] = silver.count()
        sizes[f"{table}_held"] = quarantine.where(F.col("_status") == "held").count()
    return sizes


def operations(rng: random.Random) -> list[tuple[Any, ...]]:
    """Every day merged once in a random order (or by one backfill), then restated deliveries re-run at once, twice,
    by a backfill or later, then the runs that catch up: each stale day, and nation after region last changed."""
    ops: list[tuple[Any, ...]] = []
    for table in rng.sample(TABLES, len(TABLES)):
        if rng.random() < 0.4:
            ops.append(("run", table, D1, D3))
        else:
            ops += [("run", table, day, day) for day in rng.sample(DAYS, len(DAYS))]
    stale: set[tuple[str, str]] = set()
    for _ in range(2):
        table, day = rng.choice(TABLES), rng.choice(DAYS)
        ops.append(("restate", table, day))
        how = rng.choice(("once", "twice", "backfill", "later"))
        if how == "later":
            stale.add((table, day))
        else:
            last = D3 if how == "backfill" else day
            ops += [("run", table, day, last)] * (2 if how == "twice" else 1)
            stale -= {(table, d) for d in DAYS if day <= d <= last}
    for table in TABLES:
        days = sorted(d for t, d in stale if t == table)
        if days:
            ops.append(("run", table, days[0], days[-1]))
    if [op for op in ops if op[0] == "run"][-1][1] != "nation":
        day = rng.choice(DAYS)
        ops.append(("run", "nation", day, day))
    return ops


@pytest.mark.parametrize("seed", [12, 8])
def test_any_order_ends_at_the_from_scratch_merge(
    seed: int, tmp_path: Path, spark: SparkSession, one_shuffle_partition: None
) -> None:
    rng = random.Random(seed)
    for table in TABLES:
        for day in DAYS:
            deliver(rng, tmp_path, table, day)
    for i, op in enumerate(operations(rng)):
        if op[0] == "restate":
            deliver(rng, tmp_path, op[1], op[2])
        else:
            build_days(tmp_path, op[1], op[2], op[3], run_id=f"r{i}")
    sizes = assert_from_scratch(spark, tmp_path)
    assert sizes["region"] > 0 and sizes["nation"] > 0


def test_withdrawn_newest_version_brings_the_previous_back(
    tmp_path: Path, spark: SparkSession, one_shuffle_partition: None
) -> None:
    def region(key: str, stamp: str, name: str) -> dict[str, str]:
        return {"r_regionkey": key, "r_name": name, "r_comment": "c", "updated_at": stamp}

    write_bronze(tmp_path, "files__region", D1, [region("15", "2024-01-01 08:00:00", "v1"), region("1", D1 + " 08:00:00", "a")])
    write_bronze(tmp_path, "files__region", D2, [region("15", "2024-01-02 08:00:00", "v2")])
    build_days(tmp_path, "region", D1, D2, run_id="first")
    assert current(tmp_path, "region")[15]["r_name"] == "V2"
    write_bronze(tmp_path, "files__region", D2, [region("1", D1 + " 08:00:00", "a")])
    build_days(tmp_path, "region", D2, D2, run_id="restated")
    rows = current(tmp_path, "region")
    assert (rows[15]["r_name"], rows[15]["_ingestion_date"]) == ("V1", D1), "the restated day deleted key 15"
    assert rows[1]["_ingestion_date"] == D1, "an identical re-delivery moved the row"
    assert assert_from_scratch(spark, tmp_path) == {"region": 2, "region_held": 0}
