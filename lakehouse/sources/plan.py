"""The delivery plan: ingestion days, timestamps, and which day each order and customer arrives."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from lakehouse.settings import DEFAULT_START_DATE as DEFAULT_START

# The default world's first day is the one the local partitions fall back to before any world exists.
DEFAULT_START_DATE = date.fromisoformat(DEFAULT_START)
DAY_START_SECONDS = 600
DAY_SPAN_SECONDS = 80_000


def ingestion_days(start_date: date, days: int) -> list[date]:
    """The N ingestion dates, one calendar day apart from `start_date`."""
    return [start_date + timedelta(days=i) for i in range(days)]


def stamp(day: date, seconds: int) -> str:
    """`YYYY-MM-DD HH:MM:SS` for `seconds` after midnight of `day` (UTC)."""
    if 0 <= seconds < 86_400:
        return f"{day.isoformat()} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return (datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def row_seconds(i: int, n: int) -> int:
    """Seconds after midnight of the true version of the i-th of n rows delivered in a day."""
    return DAY_START_SECONDS + i * DAY_SPAN_SECONDS // max(n, 1)


def plan_orders(con: duckdb.DuckDBPyConnection, tpch_dir: Path, days: int) -> None:
    """Create `order_day(o_orderkey, o_custkey, pos, day)`: orders by date then key, cut into `days` slices."""
    orders = tpch_dir / "orders.parquet"
    con.execute(
        f"""CREATE OR REPLACE TABLE order_day AS
        SELECT o_orderkey, o_custkey, pos, pos * {days} // count(*) OVER () AS day FROM (
          SELECT o_orderkey, o_custkey, row_number() OVER (ORDER BY o_orderdate, o_orderkey) - 1 AS pos
          FROM read_parquet('{orders}'))"""
    )


def day_counts(con: duckdb.DuckDBPyConnection, tpch_dir: Path) -> dict[int, tuple[int, int]]:
    """Per day index: (orders, lineitems) in that day's slice."""
    lineitem = tpch_dir / "lineitem.parquet"
    rows = con.execute(
        f"""SELECT d.day, count(DISTINCT d.o_orderkey), count(*) FROM order_day d
        JOIN read_parquet('{lineitem}') l ON l.l_orderkey = d.o_orderkey GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    return {int(d): (int(o), int(li)) for d, o, li in rows}
