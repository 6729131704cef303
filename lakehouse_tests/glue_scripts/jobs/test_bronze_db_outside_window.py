"""Database rows outside every watermark window (NULL or non-canonical `updated_at`): extracted into bronze once,
quarantined by silver with `unparseable_date`, and accounted for by `bronze_has_seen_every_source_row`,
on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg2
import pyarrow.dataset as ds

from glue_scripts.common.reports import BronzeDay
from glue_scripts.common.specs import BRONZE_BY_NAME
from glue_scripts.jobs import silver_build
from glue_scripts.jobs.bronze_ingest_db import OUTSIDE_REF, run
from lakehouse.defs.bronze.checks import SEEN_EVERY_SOURCE_ROW, evaluate_source_accounting
from lakehouse_tests.glue_scripts.helpers import job_args, no_spark, one_day

SPEC = BRONZE_BY_NAME["db__orders"]
KEY = dg.AssetKey(["bronze", "db__orders"])
DAYS = ("2024-01-02", "2024-01-03")
OUTSIDE = {"90": None, "91": "2024-1-2 10:00:00"}


def _order(key: str, updated_at: str | None) -> tuple[str | None, ...]:
    values = {"o_orderkey": key, "o_custkey": "7", "o_orderstatus": "O", "o_totalprice": "10.00",
              "o_orderdate": "1996-01-02", "o_orderpriority": "5-LOW", "o_clerk": "Clerk#1", "o_shippriority": "0",
              "o_comment": "c", "updated_at": updated_at}
    return tuple(values[c] for c in SPEC.columns)


ROWS = [_order("1", "2024-01-02 08:00:00"), _order("2", "2024-01-03 09:00:00"), _order("3", "2024-01-09 09:00:00"),
        *[_order(k, v) for k, v in OUTSIDE.items()]]
CREATE = f"CREATE TABLE orders ({', '.join(c + ' TEXT' for c in SPEC.columns)})"


def sqlite_source(tmp_path: Path) -> str:
    """The change table in a SQLite file."""
    with sqlite3.connect(tmp_path / "source.sqlite") as conn:
        conn.execute(CREATE)
        conn.executemany(f"INSERT INTO orders VALUES ({', '.join('?' for _ in SPEC.columns)})", ROWS)
    return f"jdbc:sqlite:{tmp_path / 'source.sqlite'}"


def postgres_source(postgres_url: str, name: str) -> str:
    """The change table in a fresh PostgreSQL database `name` on the session's server."""
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {name}")
    admin.close()
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(CREATE)
        cur.executemany(f"INSERT INTO orders VALUES ({', '.join('%s' for _ in SPEC.columns)})", ROWS)
    host = url.removeprefix("postgresql://postgres@")
    return f"jdbc:postgresql://postgres:any-password@{host}"


def bronze_rows(tmp_path: Path) -> list[dict[str, Any]]:
    """Every bronze row of the table, with its partition."""
    return _rows(tmp_path / "bronze" / "db__orders")


def _rows(table: Path) -> list[dict[str, Any]]:
    """Every row of a partitioned table folder, with its `ingestion_date` partition (string)."""
    dataset = ds.dataset(table, format="parquet", partitioning=ds.partitioning(flavor="hive"),
                         exclude_invalid_files=True)
    return dataset.to_table().to_pylist()


def passes(result: BronzeDay) -> bool:
    """The accounting check's verdict on a job result."""
    [check] = evaluate_source_accounting(SPEC, KEY, result)
    assert check.check_name == SEEN_EVERY_SOURCE_ROW
    return check.passed


def outside_rows(tmp_path: Path) -> list[tuple[str, str | None, str]]:
    """(key, updated_at, partition) of the bronze rows extracted as outside every window."""
    return sorted((r["o_orderkey"], r["updated_at"], str(r["ingestion_date"])) for r in bronze_rows(tmp_path)
                  if r["_source_ref"] == OUTSIDE_REF)


def test_sqlite_rows_outside_every_window_reach_bronze_once_then_silver_quarantine(tmp_path: Path) -> None:
    url, spark = sqlite_source(tmp_path), no_spark()
    results = [one_day(run(spark, job_args(tmp_path, "db__orders", day, jdbc_url=url))) for day in (*DAYS, DAYS[0])]

    assert outside_rows(tmp_path) == [("90", None, DAYS[0]), ("91", "2024-1-2 10:00:00", DAYS[0])]
    assert sorted(r["o_orderkey"] for r in bronze_rows(tmp_path)) == ["1", "2", "90", "91"]
    # day 1, day 2, then day 1 again: the re-run takes the outside rows back, as no other partition holds them
    assert [(r.rows, r.accounting.outside_window_rows) for r in results] == [(3, 2), (1, 0), (3, 2)]
    assert [(r.accounting.source_rows_total, r.accounting.bronze_rows_seen) for r in results] == [(3, 3), (4, 4), (3, 3)]
    assert all(r.rows == r.source_rows and passes(r) for r in results)

    silver_build.run(spark, {"table": "orders", "ingestion_date": DAYS[0], "bronze_path": str(tmp_path / "bronze"),
                             "silver_path": str(tmp_path / "silver"), "quarantine_path": str(tmp_path / "quarantine"),
                             "run_id": "silver", "quality": "false", "engine": "duckdb"})
    quarantine = _rows(tmp_path / "quarantine" / "orders")
    # order 1 waits there for its customer (no customers in this world); the outside rows are rejected
    assert sorted((r["o_orderkey"], r["updated_at"], list(r["_rules"])) for r in quarantine) == [
        ("1", "2024-01-02 08:00:00", ["unknown_foreign_key"]),
        ("90", None, ["unparseable_date"]), ("91", "2024-1-2 10:00:00", ["unparseable_date"])]

    # bronze loses day 1 (its window row and both outside rows) before day 2 runs again: the check fails
    shutil.rmtree(tmp_path / "bronze" / "db__orders" / f"ingestion_date={DAYS[0]}")
    result = one_day(run(spark, job_args(tmp_path, "db__orders", DAYS[1], jdbc_url=url)))
    counted = result.accounting
    assert (counted.outside_window_rows, counted.source_rows_total, counted.bronze_rows_seen) == (2, 4, 3)
    [check] = evaluate_source_accounting(SPEC, KEY, result)
    assert not check.passed and check.metadata["missing"].value == 1


def test_postgres_rows_outside_every_window_reach_bronze_once(tmp_path: Path, postgres_url: str) -> None:
    url, spark = postgres_source(postgres_url, "outside_window"), no_spark()
    results = [one_day(run(spark, job_args(tmp_path, "db__orders", day, jdbc_url=url))) for day in DAYS]
    assert outside_rows(tmp_path) == [("90", None, DAYS[0]), ("91", "2024-1-2 10:00:00", DAYS[0])]
    assert [(r.rows, r.accounting.source_rows_total, r.accounting.bronze_rows_seen) for r in results] == [
        (3, 3, 3), (1, 4, 4)]
    assert all(passes(r) for r in results)
