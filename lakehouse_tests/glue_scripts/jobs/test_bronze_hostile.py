"""Hostile deliveries (issue #15) in one simulated day, against the same day delivered clean.

Every hostile delivery is injected into one copy of a simulated landing zone. Bronze (files, logs) runs on
the clean copy and on the hostile one; silver (region, nation, supplier) runs on the hostile one and is
compared with clean TPC-H, which silver equals after a clean day. Each test then checks one class: the run
finished, the good rows equal the clean run's, each bad file or row is in quarantine with its named reason.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import pytest

from glue_scripts.common.specs import BRONZE_BY_NAME, SILVER_BY_NAME
from glue_scripts.jobs import bronze_ingest_files, bronze_ingest_logs, silver_build
from lakehouse.defs.bronze.checks import evaluate
from lakehouse.sources.simulate import simulate
from lakehouse_tests.glue_scripts.helpers import no_spark, one_day, silver_table

FILE_TABLES = ("files__region", "files__nation", "files__supplier", "files__part", "files__partsupp")
SILVER = ("region", "nation", "supplier")
VOLATILE = {"_source_ref", "_run_id", "_ingested_at"}
REGION_HEADER = "r_regionkey,r_name,r_comment,updated_at\n"
STAMP = "2024-01-01 12:00:00"
BAD_HEADERS = {
    "nation-dup.csv": ("n_nationkey,n_name,n_name,n_regionkey,n_comment,updated_at", "collide"),
    "nation-case.csv": ("n_nationkey,n_name,N_NAME,n_regionkey,n_comment,updated_at", "collide"),
    "nation-dot.csv": ("n_nationkey,n.name,n_regionkey,n_comment,updated_at", "letters, digits"),
    "nation-internal.csv": ("n_nationkey,n_name,_source_file,n_regionkey,n_comment,updated_at", "reserved"),
    "nation-empty.csv": ("n_nationkey,,n_regionkey,n_comment,updated_at", "empty column name"),
    "nation-noheader.csv": ("90,ATLANTIS,0,sunk,2024-01-01 12:00:00", "no header row"),
}
SUPPLIER_LINES = {
    "invalid_json": '{"s_suppkey": 9001, "s_name": ',
    "deep": "[" * 100_000 + "]" * 100_000,
    "nested": json.dumps({"s_suppkey": 9003, "s_name": {"first": "a"}, "s_address": "x", "s_nationkey": 1,
                          "s_phone": "1", "s_acctbal": "1.00", "s_comment": "c", "updated_at": STAMP}),
    "case": json.dumps({"s_suppkey": 9004, "S_NAME": "a", "s_name": "b", "updated_at": STAMP}),
    "internal": json.dumps({"s_suppkey": 9005, "_source_file": "/etc/passwd", "updated_at": STAMP}),
    "oversize": json.dumps({"s_suppkey": 9006, "s_comment": "z" * ((1 << 20) + 1)}),
}


@dataclass
class World:
    """One clean and one hostile warehouse of the same simulated day, with every job's result."""

    clean: Path
    hostile: Path
    day: str
    results: dict[str, dict[str, Any]]  # world -> table -> the one day's report
    names: dict[str, str]


def _landing(root: Path, source: str, entity: str, day: str) -> Path:
    return root / "landing" / source / entity / f"ingestion_date={day}"


def _inject(root: Path, day: str, corrupt_log: str) -> dict[str, str]:
    """Every hostile delivery of issue #15 in one day; returns the names given to renamed files."""
    region, nation = _landing(root, "files", "region", day), _landing(root, "files", "nation", day)
    supplier, part = _landing(root, "files", "supplier", day), _landing(root, "files", "part", day)
    logs = _landing(root, "logs", "web_access", day)
    names = {"part": "part:1 {a,b}*.csv", "log_glob": "access-*.log.gz", "log_braces": "access-{a,b}:1.log.gz"}
    os.replace(part / f"part-{day}-01.csv", part / names["part"])
    hours = [p for p in sorted(logs.iterdir()) if p.name != corrupt_log]
    os.replace(hours[0], logs / names["log_glob"])
    os.replace(hours[1], logs / names["log_braces"])
    sim_region = region / f"region-{day}-01.csv"
    sim_region.write_bytes(b"\xef\xbb\xbf" + sim_region.read_bytes())
    (region / "region-link.csv").symlink_to("/etc/passwd")
    os.mkfifo(region / "region-fifo.csv")
    for hidden in ("_region-hidden.csv", ".region.csv", "region.txt"):
        (region / hidden).write_text(REGION_HEADER + f"95,HIDDEN,x,{STAMP}\n")
    (region / "nested").mkdir()
    (region / "nested" / "region-x.csv").write_text(REGION_HEADER + f"96,NESTED,x,{STAMP}\n")
    (region / "region-missing.csv").write_text(f"r_regionkey,r_name,updated_at\n90,ATLANTIS,{STAMP}\n91,MU,{STAMP}\n")
    (region / "region-quoted.csv").write_text(REGION_HEADER + f'92,LEMURIA,"two\nlines, ""quoted""",{STAMP}\n')
    for name, (header, _) in BAD_HEADERS.items():
        (nation / name).write_text(f"{header}\n91,ATLANTIS,0,sunk,{STAMP}\n")
    (nation / "nation-latin1.csv").write_bytes(f"n_nationkey,n_name\n92,AM\xc9RICA\n".encode("latin-1"))
    (supplier / "supplier-hostile.jsonl").write_text("\n".join(SUPPLIER_LINES.values()) + "\n")
    names["log_appended"] = hours[2].name
    (logs / "access-huge.log.gz").write_bytes(gzip.compress(b"a" * (8 << 20) + b"\n") + hours[2].read_bytes())
    return names


def _run(root: Path, day: str, silver: bool) -> dict[str, Any]:
    spark = no_spark()
    args = {"ingestion_date": day, "landing_path": str(root / "landing"), "bronze_path": str(root / "bronze"),
            "quarantine_path": str(root / "quarantine"), "run_id": "run"}
    results = {t: one_day(bronze_ingest_files.run(spark, {**args, "table": t})) for t in FILE_TABLES}
    results["logs__web_access"] = one_day(bronze_ingest_logs.run(spark, {**args, "table": "logs__web_access"}))
    for table in SILVER if silver else ():
        results[table] = silver_build.run(spark, {
            "table": table, "ingestion_date": day, "bronze_path": str(root / "bronze"),
            "silver_path": str(root / "silver"), "quarantine_path": str(root / "quarantine"), "run_id": "run",
            "quality": "false", "engine": "duckdb"})
    return results


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    clean = tmp_path_factory.mktemp("clean")
    manifest = simulate(clean, sf=0.01, days=1, progress=False)
    day = manifest["days"][0]
    hostile = tmp_path_factory.mktemp("hostile")
    shutil.copytree(clean / "landing", hostile / "landing")
    corrupt_log = (manifest["logs"]["corrupt_file"] or {}).get("path", "").rsplit("/", 1)[-1]
    names = _inject(hostile, day, corrupt_log)
    results = {"clean": _run(clean, day, silver=False), "hostile": _run(hostile, day, silver=True)}
    return World(clean, hostile, day, results, names)


def _rows(root: Path, layer: str, table: str, day: str) -> list[dict[str, Any]]:
    return pq.read_table(root / layer / table / f"ingestion_date={day}").to_pylist()


def _stable(rows: list[dict[str, Any]]) -> list[tuple]:
    return sorted((tuple((k, v) for k, v in sorted(r.items()) if k not in VOLATILE) for r in rows), key=repr)


def _ref(row: dict[str, Any]) -> str:
    return row["_source_ref"].rsplit("/", 1)[-1]


def _quarantined(w: World, table: str, file: str) -> dict[str, list[str]]:
    """Quarantine rows of a silver table delivered by one hostile file: {primary key or raw line: rules}."""
    key = SILVER_BY_NAME[table].primary_key[0]
    return {(r[key] or r["_corrupt_record"]): r["_rules"]
            for r in _rows(w.hostile, "quarantine", table, w.day) if _ref(r) == file}


def _silver(w: World, table: str) -> list[dict[str, Any]]:
    """The hostile world's silver rows of `table` (TPC-H columns)."""
    return pq.read_table(w.hostile / "silver" / table, columns=list(SILVER_BY_NAME[table].column_names)).to_pylist()


def _truth(w: World, table: str) -> list[dict[str, Any]]:
    """Clean TPC-H `table`, which silver equals after a clean day."""
    return silver_table(w.clean / "sources" / "tpch", table).to_pylist()


def _check(w: World, table: str, name: str) -> dg.AssetCheckResult:
    key = dg.AssetKey(["bronze", table])
    return next(r for r in evaluate(BRONZE_BY_NAME[table], key, w.results["hostile"][table], None) if r.check_name == name)


def test_the_hostile_run_finishes_and_every_delivery_is_accounted_for(world: World) -> None:
    for table in (*FILE_TABLES, "logs__web_access"):
        assert _check(world, table, "records_accounted_for").passed, table
        result = world.results["hostile"][table]
        assert result.rows == result.source_rows > 0


def test_file_names_are_literal(world: World) -> None:
    for table in ("files__part", "logs__web_access"):
        clean = _rows(world.clean, "bronze", table, world.day)
        hostile = [r for r in _rows(world.hostile, "bronze", table, world.day) if _ref(r) != "access-huge.log.gz"]
        assert _stable(hostile) == _stable(clean), table
    refs = {_ref(r) for t in ("files__part", "logs__web_access") for r in _rows(world.hostile, "bronze", t, world.day)}
    assert {world.names["part"], world.names["log_glob"], world.names["log_braces"]} <= refs


def test_symlinks_and_special_files_are_refused_never_followed(world: World) -> None:
    corrupt = {c.path.rsplit("/", 1)[-1]: c.reason for c in world.results["hostile"]["files__region"].corrupt_files}
    assert "symbolic link" in corrupt["region-link.csv"] and "not a regular file" in corrupt["region-fifo.csv"]
    folder = world.hostile / "quarantine" / "_files" / "files__region" / f"ingestion_date={world.day}"
    assert json.loads((folder / "region-link.csv.reason.json").read_text())["reason"].startswith("symbolic link")
    assert not (folder / "region-link.csv").exists()
    assert not [r for r in _rows(world.hostile, "bronze", "files__region", world.day) if "root:" in str(r)]


def test_names_the_reader_does_not_take_are_reported(world: World) -> None:
    check = _check(world, "files__region", "landing_has_no_unread_names")
    unread = {e["path"].rsplit("/", 1)[-1] for e in check.metadata["unread"].value}
    assert not check.passed and unread == {"_region-hidden.csv", ".region.csv", "region.txt", "nested"}
    keys = {r["r_regionkey"] for r in _rows(world.hostile, "bronze", "files__region", world.day)}
    assert not keys & {"95", "96"}


def test_unusable_headers_quarantine_their_file_and_the_rest_is_ingested(world: World) -> None:
    corrupt = {c.path.rsplit("/", 1)[-1]: c.reason for c in world.results["hostile"]["files__nation"].corrupt_files}
    assert set(corrupt) == {*BAD_HEADERS, "nation-latin1.csv"}
    for name, (_, reason) in BAD_HEADERS.items():
        assert reason in corrupt[name], (name, corrupt[name])
        assert (world.hostile / "quarantine" / "_files" / "files__nation" / f"ingestion_date={world.day}" / name).exists()
    assert "UTF-8" in corrupt["nation-latin1.csv"]
    assert not _check(world, "files__nation", "has_no_corrupt_files").passed
    assert _stable(_rows(world.hostile, "bronze", "files__nation", world.day)) == _stable(
        _rows(world.clean, "bronze", "files__nation", world.day))
    assert _stable(_silver(world, "nation")) == _stable(_truth(world, "nation"))


def test_a_csv_missing_a_column_is_flagged_reported_and_quarantined_in_silver(world: World) -> None:
    flagged = {r["r_regionkey"]: r["_defects"] for r in _rows(world.hostile, "bronze", "files__region", world.day)
               if _ref(r) == "region-missing.csv"}
    assert flagged == {"90": "missing_column:r_comment", "91": "missing_column:r_comment"}
    drift = _check(world, "files__region", "schema_matches_previous_partition")
    assert not drift.passed and drift.metadata["files_missing_columns"].value[0]["columns"] == ["r_comment"]
    quarantined = _quarantined(world, "region", "region-missing.csv")
    assert quarantined["90"] == quarantined["91"] == ["missing_column"]


def test_standard_formats_bom_quoted_newline_truncated_gzip(world: World) -> None:
    silver = {r["r_regionkey"]: r for r in _silver(world, "region")}
    assert _stable([r for k, r in silver.items() if k != 92]) == _stable(_truth(world, "region"))
    assert silver[92]["r_comment"] == 'two\nlines, "quoted"'
    logs = [c.path.rsplit("/", 1)[-1] for c in world.results["hostile"]["logs__web_access"].corrupt_files]
    assert logs == [c.path.rsplit("/", 1)[-1] for c in world.results["clean"]["logs__web_access"].corrupt_files]
    assert logs and "gzip" in world.results["hostile"]["logs__web_access"].corrupt_files[0].reason


def test_json_lines_defects_are_quarantined_with_their_rule(world: World) -> None:
    quarantined = _quarantined(world, "supplier", "supplier-hostile.jsonl")
    assert quarantined[SUPPLIER_LINES["invalid_json"]] == ["invalid_json"]
    assert quarantined[SUPPLIER_LINES["deep"]] == ["invalid_json"]
    assert quarantined["9003"] == ["not_a_scalar"]
    assert quarantined[SUPPLIER_LINES["case"]] == quarantined[SUPPLIER_LINES["internal"]] == ["unusable_key"]
    assert _stable(_silver(world, "supplier")) == _stable(_truth(world, "supplier"))


def test_records_over_the_limit_are_quarantined_with_size_and_file(world: World) -> None:
    rejected = {_ref({"_source_ref": r.path}): r for t in ("files__supplier", "logs__web_access")
                for r in world.results["hostile"][t].landing.rejected_records}
    assert rejected["supplier-hostile.jsonl"].bytes == len(SUPPLIER_LINES["oversize"]) + 1
    assert rejected["access-huge.log.gz"].bytes == (8 << 20) + 1
    assert all(r.reason.startswith("record_too_large") for r in rejected.values())
    listed = world.hostile / "quarantine" / "_files" / "logs__web_access" / f"ingestion_date={world.day}"
    assert json.loads((listed / "access-huge.log.gz.records.json").read_text())["records"][0]["line"] == 1
    logs = _rows(world.hostile, "bronze", "logs__web_access", world.day)
    huge = [r["raw_line"] for r in logs if _ref(r) == "access-huge.log.gz"]
    assert huge and huge == [r["raw_line"] for r in logs if _ref(r) == world.names["log_appended"]]
