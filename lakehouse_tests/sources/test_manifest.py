"""The manifest's counts equal what was actually written, re-derived from the delivered data."""

from __future__ import annotations

import csv
import gzip
import json
import re
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

LOG_PATTERN = r'^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$'
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
DATE_OK = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4})$")


def _window(day: str) -> tuple[str, str]:
    return f"{day} 00:00:00", f"{date.fromisoformat(day) + timedelta(days=1)} 00:00:00"


def test_manifest_header(manifest: dict) -> None:
    assert manifest["scale_factor"] == 0.01 and manifest["seed"] == 7 and manifest["start_date"] == "2024-01-01"
    assert manifest["days"] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert set(manifest["tables"]) == {"db__orders", "db__lineitem", "api__customers", "files__part", "files__supplier",
                                       "files__partsupp", "files__nation", "files__region", "logs__web_access"}
    assert manifest["tables"]["logs__web_access"]["silver_table"] == "web_events"
    assert manifest["tables"]["api__customers"]["silver_table"] == "customer"


@pytest.mark.parametrize("table,date_col,number_col,negative_col,fk_col", [
    ("orders", "o_orderdate", "o_totalprice", "o_totalprice", "o_custkey"),
    ("lineitem", "l_shipdate", "l_extendedprice", "l_quantity", "l_partkey"),
])
def test_db_counts_per_window(world: Path, manifest: dict, table: str, date_col: str, number_col: str,
                              negative_col: str, fk_col: str) -> None:
    conn = sqlite3.connect(world / "sources" / "db" / "source.sqlite")
    key = "o_orderkey" if table == "orders" else "l_linenumber"
    for day, counts in manifest["tables"][f"db__{table}"]["days"].items():
        start, end = _window(day)
        rows = conn.execute(f"SELECT * FROM {table} WHERE updated_at >= ? AND updated_at < ?", (start, end)).fetchall()
        names = [d[0] for d in conn.execute(f"SELECT * FROM {table} LIMIT 0").description]
        recs = [dict(zip(names, r)) for r in rows]
        assert len(rows) == counts["rows_delivered"] > 0
        assert len(rows) - len(set(rows)) == counts["exact_duplicates"] > 0
        bad = counts["bad_rows"]
        assert sum(r[key] is None for r in recs) == bad["null_key"] > 0
        assert sum(r[date_col] is not None and not DATE_OK.match(r[date_col].strip()) for r in recs) == bad["unparseable_date"] > 0
        assert sum(r[number_col] is not None and not NUMBER.match(r[number_col].strip()) for r in recs) == bad["unparseable_number"] > 0
        assert sum((r[negative_col] or "").startswith("-") for r in recs) == bad["negative_value"] > 0
        assert sum(int(r[fk_col]) >= 2 * 10**12 for r in recs if NUMBER.match((r[fk_col] or "x").strip())) == bad["unknown_foreign_key"] > 0
        assert counts["superseded_versions"] > 0 and counts["stale_versions"] > 0 and counts["format_variations"] > 0
    total = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    assert total == manifest["tables"][f"db__{table}"]["totals"]["rows_delivered"]


def test_api_counts_per_modstamp_day(world: Path, manifest: dict) -> None:
    records = [json.loads(x) for x in (world / "sources" / "api" / "customers.jsonl").read_text().splitlines()]
    for day, counts in manifest["tables"]["api__customers"]["days"].items():
        start, end = _window(day)
        in_day = [r for r in records if start <= r["system_modstamp"] < end]
        assert len(in_day) == counts["rows_delivered"]
        assert sum(r["c_custkey"] is None for r in in_day) == counts["bad_rows"]["null_key"]
    late = manifest["late_customer_keys"]
    assert late and all(k in manifest["days"][1:] for k in late)
    assert sum(len(v) for v in late.values()) == manifest["tables"]["api__customers"]["totals"]["late_dimension_keys"]


def _file_rows(path: Path) -> tuple[int, int]:
    """(rows, rows with a wrong field count) of a CSV or JSON Lines drop."""
    if path.suffix == ".jsonl":
        return len(path.read_text().splitlines()), 0
    with path.open(newline="") as f:
        header, *body = list(csv.reader(f))
    return len(body), sum(len(r) != len(header) for r in body)


@pytest.mark.parametrize("entity", ["part", "supplier", "partsupp", "nation", "region"])
def test_file_counts_per_landing_partition(world: Path, manifest: dict, entity: str) -> None:
    for day, counts in manifest["tables"][f"files__{entity}"]["days"].items():
        folder = world / "landing" / "files" / entity / f"ingestion_date={day}"
        found = [_file_rows(p) for p in sorted(folder.iterdir())]
        assert sum(r for r, _ in found) == counts["rows_delivered"] > 0
        assert sum(w for _, w in found) == counts["bad_rows"]["wrong_column_count"]


def test_schema_drift_and_late_file(world: Path, manifest: dict) -> None:
    drift = manifest["schema_drift"]
    assert drift == {"table": "files__part", "column": "p_origin", "from_day": "2024-01-02"}
    for day in manifest["days"]:
        header = next(csv.reader((world / "landing" / "files" / "part" / f"ingestion_date={day}" / f"part-{day}-01.csv").open()))
        assert (header[-1] == "p_origin") == (day >= drift["from_day"])
    (late,) = manifest["late_files"]
    assert late["arrival_day"] == str(date.fromisoformat(late["ingestion_date"]) + timedelta(days=1))
    assert (world / "sources" / "drops" / f"arrival={late['arrival_day']}" / late["path"]).is_file()
    assert (world / "landing" / late["path"]).is_file()
    assert not (world / "sources" / "drops" / f"arrival={late['ingestion_date']}" / late["path"]).exists()


def test_logs_counts_and_corrupt_file(world: Path, manifest: dict) -> None:
    pattern = re.compile(LOG_PATTERN)
    corrupt = manifest["logs"]["corrupt_file"]
    for day, counts in manifest["tables"]["logs__web_access"]["days"].items():
        files = sorted((world / "landing" / "logs" / "web_access" / f"ingestion_date={day}").glob("access-*.log.gz"))
        assert len(files) == counts["files"] == 24
        lines: list[str] = []
        for path in files:
            if path.relative_to(world / "landing").as_posix() == corrupt["path"]:
                with pytest.raises(EOFError), gzip.open(path, "rt") as f:
                    f.read()
                continue
            lines += gzip.open(path, "rt").read().splitlines()
        assert len(lines) == counts["rows_delivered"] == counts["lines"]
        assert sum(not pattern.match(x) for x in lines) == counts["malformed_lines"] == counts["bad_rows"]["malformed_line"] > 0
        agents = [pattern.match(x).group(8) for x in lines if pattern.match(x)]
        assert sum(bool(re.search("bot|crawler|spider", a, re.I)) for a in agents) == counts["bot_lines"] > 0
        paths = " ".join(pattern.match(x).group(4) for x in lines if pattern.match(x))
        assert "/customers/" in paths and "/parts/" in paths and "part=" in paths and "customer=" in paths
    assert corrupt["lines"] > 0


def test_gzip_is_deterministic_without_name_or_mtime(world: Path) -> None:
    path = next((world / "landing" / "logs" / "web_access").rglob("access-00.log.gz"))
    header = path.read_bytes()[:10]
    assert header[3] == 0 and header[4:8] == b"\0\0\0\0"
