"""bronze_ingest_db: watermark window over SQLite, raw text kept, unreachable sources named and retried, rows
streamed in batches, and no Spark session started."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from glue_scripts.common import db_source
from glue_scripts.common.specs import BRONZE_BY_NAME, BRONZE_METADATA_COLUMNS
from glue_scripts.common.transient import is_transient_message
from glue_scripts.jobs.bronze_ingest_db import SourceQueryError, SourceUnavailableError, run
from lakehouse_tests.glue_scripts.helpers import job_args, no_spark, one_day, partition_table

COLUMNS = BRONZE_BY_NAME["db__orders"].columns
ROOT = Path(__file__).resolve().parents[3]


def _order(key: str, updated_at: str, status: str = "O") -> tuple[str, ...]:
    values = {"o_orderkey": key, "o_custkey": "7", "o_orderstatus": status, "o_totalprice": "173665.47",
              "o_orderdate": "1996-01-02", "o_orderpriority": "5-LOW", "o_clerk": "Clerk#000000951",
              "o_shippriority": "0", "o_comment": " nstructions sleep furiously ", "updated_at": updated_at}
    return tuple(values[c] for c in COLUMNS)


def _database(path: Path, rows: list[tuple[str, ...]]) -> str:
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TABLE orders ({', '.join(c + ' TEXT' for c in COLUMNS)})")
        conn.executemany(f"INSERT INTO orders VALUES ({', '.join('?' for _ in COLUMNS)})", rows)
    return f"jdbc:sqlite:{path}"


def test_watermark_window_and_raw_values(tmp_path: Path) -> None:
    url = _database(tmp_path / "source.sqlite", [
        _order("1", "2024-01-01 23:59:59"),
        _order("2", "2024-01-02 00:00:00"),
        _order(" 3 ", "2024-01-02 23:59:59", status="o"),
        _order("3", "2024-01-02 12:00:00"),
        _order("4", "2024-01-03 00:00:00"),
    ])
    result = one_day(run(no_spark(), job_args(tmp_path, "db__orders", jdbc_url=url)))
    table = partition_table(tmp_path, "db__orders")
    assert table.column_names == [*COLUMNS, *BRONZE_METADATA_COLUMNS]
    rows = {r["o_orderkey"]: r for r in table.to_pylist()}
    assert set(rows) == {"2", " 3 ", "3"}
    assert rows[" 3 "]["o_orderstatus"] == "o" and rows["2"]["o_comment"] == " nstructions sleep furiously "
    assert rows["2"]["o_totalprice"] == "173665.47"
    assert rows["2"]["_source_ref"] == "orders updated_at in [2024-01-02 00:00:00, 2024-01-03 00:00:00)"
    assert {r["_source_system"] for r in rows.values()} == {"db"}
    assert result.source_rows == result.rows == 3
    assert result.source_ref == rows["2"]["_source_ref"]


def test_missing_sqlite_database_names_the_source(tmp_path: Path) -> None:
    url = f"jdbc:sqlite:{tmp_path / 'nowhere' / 'source.sqlite'}"
    with pytest.raises(SourceUnavailableError, match="db__orders") as err:
        run(no_spark(), job_args(tmp_path, "db__orders", jdbc_url=url, db_backoff_seconds="0"))
    assert is_transient_message(str(err.value))
    assert not (tmp_path / "bronze" / "db__orders").exists()


def test_a_query_the_database_refuses_is_not_transient(tmp_path: Path) -> None:
    url = _database(tmp_path / "source.sqlite", [])
    with sqlite3.connect(tmp_path / "source.sqlite") as conn:
        conn.execute("ALTER TABLE orders RENAME TO orders_old")
    with pytest.raises(SourceQueryError, match="db__orders.*no such table") as err:
        run(no_spark(), job_args(tmp_path, "db__orders", jdbc_url=url, db_backoff_seconds="0"))
    assert not is_transient_message(str(err.value))


def test_unreachable_postgres_names_the_source_and_hides_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PG_SECRET", "s3cret-value")
    args = job_args(tmp_path, "db__lineitem", jdbc_url="jdbc:postgresql://etl:url-secret@127.0.0.1:1/tpch?connectTimeout=2",
                    jdbc_password_env="PG_SECRET", db_max_attempts="2", db_backoff_seconds="0")
    with pytest.raises(SourceUnavailableError, match="db__lineitem") as err:
        run(no_spark(), args)
    message = str(err.value)
    assert "127.0.0.1:1" in message and "s3cret-value" not in message and "url-secret" not in message
    assert err.value.__cause__ is None and is_transient_message(message)


def test_rows_stream_in_batches_into_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_source, "BATCH_ROWS", 2)
    url = _database(tmp_path / "source.sqlite", [
        *[_order(str(k), f"2024-01-02 0{k}:00:00") for k in range(5)], _order("8", "2024-1-2 09:00:00"),
        _order("9", "2024-01-03 00:00:00")])
    result = one_day(run(no_spark(), job_args(tmp_path, "db__orders", jdbc_url=url)))
    [file] = (tmp_path / "bronze" / "db__orders" / "ingestion_date=2024-01-02").iterdir()
    table = pq.read_table(file)
    assert pq.ParquetFile(file).num_row_groups == 4  # window: 2 + 2 + 1, outside: 1
    assert table.column("o_orderkey").to_pylist() == ["0", "1", "2", "3", "4", "8"]
    assert (result.rows, result.source_rows, result.accounting.outside_window_rows) == (6, 6, 1)
    assert result.schema == tuple((c, "string") for c in COLUMNS) + tuple(
        (c, "timestamp" if c == "_ingested_at" else "string") for c in BRONZE_METADATA_COLUMNS)


DRIVER = """
import json, sys
from pyspark.sql import SparkSession
from glue_scripts.common.session import LazySpark
from glue_scripts.jobs.bronze_ingest_db import run
spark = LazySpark()
result = run(spark, json.loads(sys.argv[1]))
active = SparkSession.getActiveSession() is not None
print(json.dumps({"started": spark.started, "active": active, "rows": result.last.rows}))
"""


def test_a_db_run_starts_no_spark_session(tmp_path: Path) -> None:
    url = _database(tmp_path / "source.sqlite", [_order("1", "2024-01-02 10:00:00")])
    args = json.dumps(job_args(tmp_path, "db__orders", jdbc_url=url))
    done = subprocess.run([sys.executable, "-c", DRIVER, args], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"started": False, "active": False, "rows": 1}
