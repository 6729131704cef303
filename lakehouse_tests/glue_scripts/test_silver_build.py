"""silver_build over several bronze days: duplicates vs superseded, stale versions, reruns, rewrites, quarantine."""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from glue_scripts.common.reports import SilverReport
from glue_scripts.common.session import LazySpark
from glue_scripts.common.specs import BRONZE_BY_NAME, SILVER_BY_NAME
from glue_scripts.jobs.silver_build import run
from glue_scripts.transforms.silver_merge import reconciliation
from glue_scripts.transforms.silver_standardize import silver_columns
from lakehouse_tests.glue_scripts.helpers import one_day

D1, D2, D3 = "2024-01-01", "2024-01-02", "2024-01-03"


def bronze_hash(values: list[str | None]) -> str:
    """A stand-in for bronze's `_record_hash`: identical deliveries share it."""
    text = "|".join("\\N" if v is None else f"{len(v)}:{v}" for v in values)
    return hashlib.sha256(text.encode()).hexdigest()


def write_bronze(root: Path, table: str, day: str, rows: list[dict[str, Any]], drift: bool = False) -> None:
    """Write bronze partition `<root>/bronze/<table>/ingestion_date=<day>`: raw strings plus metadata."""
    columns = [c for c in BRONZE_BY_NAME[table].columns if c != "_parse_error"]
    data: dict[str, list[Any]] = {c: [r.get(c) for r in rows] for c in columns}
    if table == "logs__web_access":
        data["_parse_error"] = [bool(r.get("_parse_error", False)) for r in rows]
    if drift:
        data["extra_col"] = ["EXTRA"] * len(rows)
    if any("_corrupt_record" in r for r in rows):
        data["_corrupt_record"] = [r.get("_corrupt_record") for r in rows]
    hashes = [bronze_hash([r.get(c) for c in columns] + [r.get("_corrupt_record")]) for r in rows]
    table_ = pa.table({
        **{c: pa.array(v, pa.bool_() if c == "_parse_error" else pa.string()) for c, v in data.items()},
        "_ingestion_date": pa.array([day] * len(rows), pa.string()),
        "_ingested_at": pa.array([None] * len(rows), pa.timestamp("us", tz="UTC")),
        "_source_system": pa.array([table.split("__")[0]] * len(rows), pa.string()),
        "_source_ref": pa.array([r.get("_source_ref", f"{table}-{day}.csv") for r in rows], pa.string()),
        "_run_id": pa.array(["bronze-run"] * len(rows), pa.string()),
        "_record_hash": pa.array(hashes, pa.string()),
    })
    folder = root / "bronze" / table / f"ingestion_date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table_, folder / "part-00000.parquet")


def build(root: Path, table: str, day: str, run_id: str = "run", quality: bool = False,
          engine: str = "duckdb") -> SilverReport:
    """Run silver_build for one table and day under `root` on `engine`; its report survives JSON, and the
    reconciliation must hold on every run."""
    args = {"table": table, "ingestion_date": day, "bronze_path": str(root / "bronze"),
            "silver_path": str(root / "silver"), "quarantine_path": str(root / "quarantine"), "run_id": run_id,
            "quality": str(quality).lower(), "engine": engine}
    report = run(LazySpark(), args)
    assert SilverReport.from_json(report.to_json()) == report
    for day in report.days.values():
        assert reconciliation(asdict(day))["reconciles"], day
        assert day.reconciliation.reconciles
    return report


def contents(root: Path, layer: str, table: str) -> list[tuple[Any, ...]]:
    """Every row of a table with its partition folder, sorted: the full state a rerun must not change."""
    dataset = ds.dataset(str(root / layer / table), format="parquet", partitioning="hive")
    rows = dataset.to_table().to_pylist()
    return sorted(tuple(sorted((k, repr(v)) for k, v in r.items())) for r in rows)


def mtimes(root: Path, layer: str, table: str, day: str) -> dict[str, int]:
    """File name → modification time (ns) of one partition's files."""
    folder = root / layer / table / f"ingestion_date={day}"
    return {name: os.stat(folder / name).st_mtime_ns for name in os.listdir(folder)}


def current(root: Path, table: str) -> dict[Any, dict[str, Any]]:
    """The current silver rows by primary key (every partition, silver columns only)."""
    rows = pq.read_table(root / "silver" / table, columns=list(silver_columns(SILVER_BY_NAME[table]))).to_pylist()
    pk = SILVER_BY_NAME[table].primary_key
    keyed = {tuple(r[c] for c in pk) if len(pk) > 1 else r[pk[0]]: r for r in rows}
    assert len(keyed) == len(rows), "primary key repeated"
    return keyed


def quarantine(root: Path, table: str, day: str) -> list[dict[str, Any]]:
    """Rows of one quarantine partition."""
    return pq.read_table(root / "quarantine" / table / f"ingestion_date={day}").to_pylist()


def part(
    key: str | None, updated_at: str, comment: str = "c", size: str = "7", price: str = "901.00", **kw: Any
) -> dict[str, Any]:
    """One raw bronze part row."""
    return {"p_partkey": key, "p_name": "name", "p_mfgr": "Manufacturer#1", "p_brand": "Brand#13",
            "p_type": "promo brushed tin", "p_size": size, "p_container": "sm case", "p_retailprice": price,
            "p_comment": comment, "updated_at": updated_at, **kw}


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three days of part deliveries built once: versions, duplicates, bad rows; results and snapshots per day."""
    root = tmp_path_factory.mktemp("parts")
    write_bronze(root, "files__part", D1, [
        part(" 1 ", "2024-01-01 10:00:00"),
        part("2", "2024-01-01 10:00:00", comment=" keep spaces "),
        part("3", "2024-01-01 10:00:00"),
        part("3", "2024-01-01 10:00:00"),
        part("5", "2024-01-01 09:00:00", comment="tie-a"),
        part("5", "2024-01-01 09:00:00", comment="tie-b"),
        part("6", "2024-01-01 10:00:00", comment="old"),
        part("6", "2024-01-01 11:00:00", comment="new"),
        part("  ", "2024-01-01 10:00:00"),
        part("7", "2024-01-01 10:00:00", size="-3"),
        part("8", "2024-01-01 10:00:00", price="12abc"),
        part("9", "2024-01-01 10:00:00", price="1.234", size="-1"),
        part("10", "2024-01-01 10:00:00", _corrupt_record="10,a,b"),
    ])
    write_bronze(root, "files__part", D2, [
        part("1", "2024-01-02 08:00:00", comment="v2"),
        part("2", "2023-12-31 10:00:00", comment="stale"),
        part("3", "2024-01-01 10:00:00"),
        part("4", "2024-01-02 08:00:00"),
    ], drift=True)
    write_bronze(root, "files__part", D3, [part("1", "2024-01-03 08:00:00", comment="v3")])
    out: dict[str, Any] = {"root": root}
    out[D1] = one_day(build(root, "part", D1, run_id="r1"))
    out[D2] = one_day(build(root, "part", D2, run_id="r2"))
    out["mtimes_before_d3"] = {d: mtimes(root, "silver", "part", d) for d in (D1, D2)}
    out[D3] = one_day(build(root, "part", D3, run_id="r3"))
    out["mtimes_after_d3"] = {d: mtimes(root, "silver", "part", d) for d in (D1, D2)}
    return out


def test_standardized_values_and_layout(parts: dict[str, Any]) -> None:
    rows = current(parts["root"], "part")
    assert sorted(rows) == [1, 2, 3, 4, 5, 6]
    assert rows[2]["p_type"] == "PROMO BRUSHED TIN" and rows[2]["p_container"] == "SM CASE"
    assert rows[2]["p_size"] == 7 and str(rows[2]["p_retailprice"]) == "901.00"
    cols = list(rows[2])
    metadata = ["_updated_at", "_ingestion_date", "_source_ref", "_record_hash", "_run_id"]
    assert cols == [*SILVER_BY_NAME["part"].column_names, *metadata]
    assert parts[D1].schema[0] == ("p_partkey", "bigint")


def test_versions_stale_and_ties(parts: dict[str, Any]) -> None:
    rows = current(parts["root"], "part")
    assert rows[1]["p_comment"] == "v3" and rows[1]["_ingestion_date"] == D3
    assert rows[2]["p_comment"] == " keep spaces " and rows[2]["_ingestion_date"] == D1, "a late stale version won"
    assert rows[6]["p_comment"] == "new"
    tie = max(["tie-a", "tie-b"], key=lambda c: bronze_hash([part("5", "2024-01-01 09:00:00", comment=c).get(k)
                                                              for k in BRONZE_BY_NAME["files__part"].columns] + [None]))
    assert rows[5]["p_comment"] == tie, "tie not broken by the greatest record hash"


def test_counts_per_day(parts: dict[str, Any]) -> None:
    d1, d2, d3 = parts[D1], parts[D2], parts[D3]
    keys = ("bronze_rows", "exact_duplicates", "superseded", "quarantined", "contributing")
    assert [getattr(d1, k) for k in keys] == [13, 1, 2, 5, 5]
    assert d1.quarantined_by_rule == {
        "negative_value": 2, "null_key": 1, "unparseable_number": 2, "wrong_column_count": 1}
    assert (d2.bronze_rows, d2.exact_duplicates, d2.superseded, d2.contributing) == (4, 1, 1, 2)
    assert d2.partitions_rewritten == (D2, D1) and d2.replaced == 1
    assert (d3.contributing, d3.rows) == (1, 6)
    assert all(parts[day].bytes > 0 for day in (D1, D2, D3))  # the written partition's Parquet bytes


def test_quarantine_rows_keep_raw_values(parts: dict[str, Any]) -> None:
    rows = {r["p_partkey"]: r for r in quarantine(parts["root"], "part", D1)}
    assert {k: v["_rules"] for k, v in rows.items()} == {
        "  ": ["null_key"], "7": ["negative_value"], "8": ["unparseable_number"],
        "9": ["negative_value", "unparseable_number"], "10": ["wrong_column_count"]}
    assert rows["8"]["p_retailprice"] == "12abc" and rows["8"]["_status"] == "rejected"
    assert rows["10"]["_corrupt_record"] == "10,a,b" and rows["10"]["_run_id"] == "r1"
    assert quarantine(parts["root"], "part", D2) == []


def test_only_touched_partitions_rewritten(parts: dict[str, Any]) -> None:
    assert parts[D3].partitions_rewritten == (D3, D2)
    assert parts["mtimes_after_d3"][D1] == parts["mtimes_before_d3"][D1], "untouched partition rewritten"
    assert parts["mtimes_after_d3"][D2] != parts["mtimes_before_d3"][D2]


def test_rerun_changes_nothing(parts: dict[str, Any]) -> None:
    root = parts["root"]
    before = (contents(root, "silver", "part"), contents(root, "quarantine", "part"))
    again = one_day(build(root, "part", D1, run_id="rerun"))
    assert again.contributing == 4 and again.superseded == 3
    build(root, "part", D2, run_id="rerun")
    assert (contents(root, "silver", "part"), contents(root, "quarantine", "part")) == before
