"""The CRM's record store: customer versions with `updated_at` and `system_modstamp`, as JSON Lines."""

from __future__ import annotations

import json
import random
import re
from datetime import date
from pathlib import Path

import duckdb

from lakehouse.sources.entities import CUSTOMER
from lakehouse.sources.faults import Faulter
from lakehouse.sources.manifest import Tally
from lakehouse.sources.plan import stamp
from lakehouse.sources.tpch import as_text

LATE_KEY_RATE = 0.02
NUMBER = re.compile(r"-?\d+(\.\d+)?")
JSON_NUMBERS = ("c_custkey", "c_nationkey", "c_acctbal")


def record_line(values: list[str | None], updated_at: str, modstamp: str) -> str:
    """One JSON record as the CRM sends it: clean numeric columns as JSON numbers (exact text), the rest strings."""
    parts = []
    for name, value in zip((*CUSTOMER.columns, "updated_at", "system_modstamp"), (*values, updated_at, modstamp)):
        raw = value if name in JSON_NUMBERS and value is not None and NUMBER.fullmatch(value) else json.dumps(value)
        parts.append(f"{json.dumps(name)}: {raw}")
    return "{" + ", ".join(parts) + "}"


def customer_days(con: duckdb.DuckDBPyConnection, tpch_dir: Path, n_days: int, rng: random.Random) -> tuple[dict[int, list[list]], dict[int, list[int]]]:
    """Customers grouped by delivery day (first order's day, or day 0), and the late keys per delivery day."""
    rows = con.execute(
        f"""WITH f AS (SELECT o_custkey, min(day) AS day FROM order_day GROUP BY 1)
        SELECT {as_text(list(CUSTOMER.columns), 'c')}, f.day FROM read_parquet('{tpch_dir / 'customer.parquet'}') c
        LEFT JOIN f ON f.o_custkey = c.c_custkey ORDER BY c.c_custkey"""
    ).fetchall()
    by_day: dict[int, list[list]] = {}
    late: dict[int, list[int]] = {}
    for *values, first in rows:
        day = 0 if first is None else int(first)
        if first is not None and day < n_days - 1 and rng.random() < LATE_KEY_RATE:
            day += 1
            late.setdefault(day, []).append(int(values[0]))
        by_day.setdefault(day, []).append(values)
    return by_day, late


def write_store(con: duckdb.DuckDBPyConnection, tpch_dir: Path, root: Path, days: list[date], faulter: Faulter,
                tally: Tally) -> dict[str, list[int]]:
    """Write `sources/api/customers.jsonl` sorted by system_modstamp; return late customer keys by delivery day."""
    by_day, late = customer_days(con, tpch_dir, len(days), faulter.rng)
    records: list[tuple[str, int, str]] = []
    for i, day in enumerate(days):
        rows = by_day.get(i, [])
        for e in faulter.emit(rows, len(rows), day):
            modstamp, delivered = e.updated_at, day
            if e.kind == "stale":
                if i + 1 < len(days):
                    delivered = days[i + 1]
                    modstamp = stamp(delivered, 60 + faulter.rng.randint(0, 500))
                else:
                    modstamp = stamp(day, 80_700 + faulter.rng.randint(0, 500))
            tally.add(CUSTOMER.name, str(delivered), e.kind, e.rule)
            records.append((modstamp, len(records), record_line(e.values, e.updated_at, modstamp)))
        tally.day(CUSTOMER.name, str(day))["late_dimension_keys"] = len(late.get(i, []))
    records.sort()
    path = root / "sources" / "api" / "customers.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        f.writelines(line + "\n" for _, _, line in records)
    return {str(days[d]): sorted(keys) for d, keys in sorted(late.items())}

