"""Silver is a function of bronze: restated days, re-runs and backfills in random orders end where a from-scratch
merge of the same bronze does (silver and quarantine, EXCEPT ALL both ways).

The reference is independent of silver_build's merge: bronze is standardized by the same SQL (what a value
parses to is not under test here), then the rules of glue_scripts/transforms/silver_merge.py are applied in
plain Python over every row of every merged day at once.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import pytest

from glue_scripts.common.days import ingestion_days
from glue_scripts.common.session import LazySpark
from glue_scripts.common.specs import SILVER_BY_NAME, SilverSpec
from glue_scripts.engine.dialect import literal
from glue_scripts.engine.duck import DuckDBEngine
from glue_scripts.engine.io import partition_files, register_present
from glue_scripts.jobs.silver_build import run
from glue_scripts.transforms.silver_merge import reconciliation
from glue_scripts.transforms.silver_standardize import (
    CORRUPT, RAW, bronze_inputs, conform_sql, quarantine_types, raw_columns, silver_columns, standardize_sql,
)
from lakehouse_tests.glue_scripts.test_silver_build import D1, D2, D3, current, write_bronze

DAYS = (D1, D2, D3)
TABLES = ("region", "nation")  # nation's foreign key n_regionkey -> region: held, released and orphaned rows
SEEDS = [int(s) for s in os.environ.get("LAKEHOUSE_RESTATE_SEEDS", "12,8,3,21,34,55").split(",")]


def region_row(rng: random.Random, key: int, day: str) -> dict[str, str]:
    """One raw region row; few distinct values, so versions tie and identical rows recur across days."""
    stamp = f"{rng.choice((day, D1))} {rng.choice(('08', '09'))}:00:00" if rng.random() > 0.1 else "not a time"
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
    write_bronze(root, SILVER_BY_NAME[table].bronze, day, rows)


def build_days(root: Path, table: str, first: str, last: str, run_id: str, engine: str = "duckdb") -> None:
    """silver_build for `table` over `first`..`last` (a backfill when they differ); every day must reconcile."""
    args = {"table": table, "ingestion_date": first, "bronze_path": str(root / "bronze"), "engine": engine,
            "silver_path": str(root / "silver"), "quarantine_path": str(root / "quarantine"), "run_id": run_id,
            "quality": "false", **({"ingestion_date_end": last} if last != first else {})}
    report = run(LazySpark(), args)
    assert list(report.days) == ingestion_days(args)
    for day in report.days.values():
        assert reconciliation(asdict(day))["reconciles"], day


def standardized(root: Path, spec: SilverSpec, days: list[str]) -> list[dict[str, Any]]:
    """Every bronze row of `days` standardized by the silver SQL, with `_batch`, in delivery order."""
    engine = DuckDBEngine()
    try:
        rows = []
        for day in days:
            bronze, present = register_present(engine, "b", str(root / "bronze" / spec.bronze), day,
                                               {c: "string" for c in bronze_inputs(spec)})
            conformed = engine.view("c", conform_sql(spec, bronze, present, (f"{literal(day)} AS _batch",)))
            typed = standardize_sql(spec, conformed, ("_batch",))
            rows += engine.rows(typed)
        return rows
    finally:
        engine.close()


def _raws(spec: SilverSpec, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[RAW + c] for c in (*raw_columns(spec), CORRUPT))


def _descending(value: Any) -> tuple[bool, Any]:
    """A sort key putting NULL last when sorting in descending order."""
    return (value is not None, value)


def from_scratch(spec: SilverSpec, rows: list[dict[str, Any]], parent_keys: set[Any] | None
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(current rows, quarantine rows) of one table by the four rules, each row with its `_batch`."""
    pk = spec.primary_key
    first_of_batch: dict[tuple[str, str], dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (r["_source_ref"], [(v is None, v) for v in _raws(spec, r)])):
        first_of_batch.setdefault((row["_batch"], row["_record_hash"]), row)            # rule 1
    quarantine = [{**r, "_status": "rejected"} for r in first_of_batch.values() if r["_rules"]]  # rule 2
    earliest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in sorted((r for r in first_of_batch.values() if not r["_rules"]), key=lambda r: r["_batch"]):
        earliest.setdefault((*(row[c] for c in pk), row["_record_hash"]), row)          # rule 3
    by_key: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in earliest.values():
        by_key.setdefault(tuple(row[c] for c in pk), []).append(row)
    current = []
    for candidates in by_key.values():                                                    # rule 4
        candidates.sort(key=lambda r: (_descending(r["_updated_at"]), _descending(r["_ingestion_date"]),
                                       _descending(r["_record_hash"]), r["_batch"]), reverse=True)
        for row in candidates:
            fk = [row[c] for f in spec.foreign_keys for c in f.columns]
            if parent_keys is None or all(v is None for v in fk) or fk[0] in parent_keys:
                current.append(row)
                break
            quarantine.append({**row, "_status": "held", "_rules": ["unknown_foreign_key"]})
    return current, quarantine


def actual(root: Path, layer: str, table: str, columns: list[str]) -> Counter:
    """The rows of a layer's table (without `_run_id`) with their partition, as a multiset."""
    files = [str(root / layer / table / f"ingestion_date={d}" / name)
             for d, entries in partition_files(str(root / layer / table)).items() for name, _, _ in entries]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    listed = ", ".join(literal(f) for f in files)
    hive = "hive_partitioning = true, hive_types = {'ingestion_date': 'VARCHAR'}"
    relation = con.sql(f"SELECT {', '.join(columns)}, CAST(ingestion_date AS VARCHAR) AS p FROM "
                       f"read_parquet([{listed}], {hive})")
    return Counter(tuple(_hashable(v) for v in r) for r in relation.fetchall())


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def assert_from_scratch(root: Path) -> dict[str, int]:
    """Silver and quarantine of every table equal the from-scratch merge (partition = the row's batch)."""
    sizes: dict[str, int] = {}
    parent: set[Any] | None = None
    for table in TABLES:
        spec = SILVER_BY_NAME[table]
        days = sorted(partition_files(str(root / "silver" / table)))
        if not days:
            continue
        cur, held = from_scratch(spec, standardized(root, spec, days), parent if spec.foreign_keys else None)
        columns = [c for c in silver_columns(spec) if c != "_run_id"]
        expected = Counter(tuple(_hashable(r[c]) for c in columns) + (r["_batch"],) for r in cur)
        assert actual(root, "silver", table, columns) == expected, f"silver {table}"
        q_columns = [c for c, _ in quarantine_types(spec) if c != "_run_id"]
        q_expected = Counter(tuple(_hashable(r[RAW + c] if RAW + c in r else r[c]) for c in q_columns) + (r["_batch"],)
                             for r in held)
        assert actual(root, "quarantine", table, q_columns) == q_expected, f"quarantine {table}"
        parent = {r[spec.primary_key[0]] for r in cur}
        sizes[table] = len(cur)
        sizes[f"{table}_held"] = sum(1 for r in held if r["_status"] == "held")
    return sizes


def operations(rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Every day merged once in a random order (or by one backfill), then restated deliveries re-run at once, twice,
    by a backfill or later, then the runs that catch up: each stale day, and nation after region last changed."""
    ops: list[tuple[Any, ...]] = []
    for table in rng.sample(TABLES, len(TABLES)):
        if rng.random() < 0.4:
            ops.append(("run", table, D1, D3))
        else:
            ops += [("run", table, day, day) for day in rng.sample(DAYS, len(DAYS))]
    stale: set[tuple[str, str]] = set()
    for _ in range(3):
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
    return iter(ops)


@pytest.mark.parametrize("seed", SEEDS)
def test_any_order_ends_at_the_from_scratch_merge(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    for table in TABLES:
        for day in DAYS:
            deliver(rng, tmp_path, table, day)
    for i, op in enumerate(operations(rng)):
        if op[0] == "restate":
            deliver(rng, tmp_path, op[1], op[2])
        else:
            build_days(tmp_path, op[1], op[2], op[3], run_id=f"r{i}")
    sizes = assert_from_scratch(tmp_path)
    assert sizes["region"] > 0 and sizes["nation"] > 0


def region(key: str, stamp: str, name: str) -> dict[str, str]:
    """One raw region row."""
    return {"r_regionkey": key, "r_name": name, "r_comment": "c", "updated_at": stamp}


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_withdrawn_newest_version_brings_the_previous_back(tmp_path: Path, engine: str) -> None:
    write_bronze(tmp_path, "files__region", D1,
                 [region("15", f"{D1} 08:00:00", "v1"), region("1", f"{D1} 08:00:00", "a")])
    write_bronze(tmp_path, "files__region", D2, [region("15", f"{D2} 08:00:00", "v2")])
    build_days(tmp_path, "region", D1, D2, run_id="first", engine=engine)
    assert current(tmp_path, "region")[15]["r_name"] == "V2"
    write_bronze(tmp_path, "files__region", D2, [region("1", f"{D1} 08:00:00", "a")])
    build_days(tmp_path, "region", D2, D2, run_id="restated", engine=engine)
    rows = current(tmp_path, "region")
    assert (rows[15]["r_name"], rows[15]["_ingestion_date"]) == ("V1", D1), "the restated day deleted key 15"
    assert rows[1]["_ingestion_date"] == D1, "an identical re-delivery moved the row"
    assert assert_from_scratch(tmp_path) == {"region": 2, "region_held": 0}


def test_a_run_interrupted_between_partitions_is_finished_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_bronze(tmp_path, "files__region", D1,
                 [region("1", f"{D1} 08:00:00", "a"), region("2", f"{D1} 08:00:00", "b")])
    write_bronze(tmp_path, "files__region", D2, [region("1", f"{D2} 08:00:00", "a2")])
    write_bronze(tmp_path, "files__region", D3, [region("3", f"{D3} 08:00:00", "c")])
    build_days(tmp_path, "region", D1, D1, run_id="r1")
    writes: list[str] = []
    original = DuckDBEngine.write

    def crash_after_first_partition(self: DuckDBEngine, sql: str, table_path: str, partition: str, *args: Any) -> Any:
        if writes and partition != "_pending":
            raise KeyboardInterrupt("the machine went away")
        if partition != "_pending":
            writes.append(partition)
        return original(self, sql, table_path, partition, *args)

    monkeypatch.setattr(DuckDBEngine, "write", crash_after_first_partition)
    with pytest.raises(KeyboardInterrupt):
        build_days(tmp_path, "region", D2, D2, run_id="r2")
    monkeypatch.undo()
    assert writes == [f"ingestion_date={D2}"] and (tmp_path / "silver" / "region" / "_pending").is_dir()
    with pytest.raises(AssertionError, match="primary key repeated"):
        current(tmp_path, "region")  # key 1 in partitions D1 and D2: the state the interruption left
    build_days(tmp_path, "region", D3, D3, run_id="r3")
    assert not (tmp_path / "silver" / "region" / "_pending").exists()
    assert current(tmp_path, "region")[1]["r_name"] == "A2"
    assert assert_from_scratch(tmp_path) == {"region": 3, "region_held": 0}
