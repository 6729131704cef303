"""Smoke test of `lakehouse bench` at SF 0.01: one day and its incremental day write a complete report, and the DuckDB
floor's bronze holds the pipeline's bronze rows."""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from glue_scripts.common.specs import BRONZE_SPECS

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
LAKEHOUSE = str(Path(sys.executable).with_name("lakehouse"))
STAGES = ["simulate", "bronze", "silver", "gold", "snowflake", "dagster overhead"]
STAGE_FIELDS = {"stage", "wall_s", "cpu_s", "rows_in", "rows_out", "rows_per_s", "bytes_written", "peak_rss_bytes",
                "floor_part", "ratio_duckdb", "ratio_io", "ratio_duckdb_cpu", "ratio_io_cpu"}
PARTS = ("bronze", "silver", "gold")
RUN_COLUMNS = {"_ingested_at", "_run_id"}


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("bench")
    out = root / "report" / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "DAGSTER_"))}
    env.update(SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable)
    done = subprocess.run([LAKEHOUSE, "bench", "--sf", "0.01", "--days", "1", "--engine", "duckdb", "--root", str(root / "lake"), "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return json.loads(out.read_text()), out.with_suffix(".md").read_text(), done


def test_report_describes_the_machine_and_versions(bench) -> None:
    report, _, _ = bench
    assert report["machine"]["cores"] >= 1 and report["machine"]["memory_bytes"] > 0 and report["machine"]["cpu_model"]
    for name in ("python", "java", "pyspark", "dagster", "duckdb", "pyarrow"):
        assert report["versions"][name]
    assert {"mean", "max", "own_cores", "other_load", "contended"} <= set(report["load"])
    assert report["parameters"]["sf"] == 0.01 and report["parameters"]["days"] == 1
    assert report["parameters"]["engine"] == "duckdb"
    assert report["peak_rss_bytes"] > 0


def test_every_stage_is_measured(bench) -> None:
    report, _, _ = bench
    assert [s["stage"] for s in report["stages"]] == STAGES
    for stage in [*report["stages"], report["pipeline_total"]]:
        assert STAGE_FIELDS <= set(stage), stage
        assert stage["wall_s"] > 0 and stage["cpu_s"] >= 0
    by_name = {s["stage"]: s for s in report["stages"]}
    for layer in ("simulate", "bronze", "silver", "gold", "snowflake"):
        assert by_name[layer]["rows_in"] > 0 and by_name[layer]["rows_out"] > 0 and by_name[layer]["bytes_written"] > 0
        assert by_name[layer]["rows_per_s"] > 0
    duck, io = report["floors"]["duckdb"], report["floors"]["io"]
    for stage in [*report["stages"], report["pipeline_total"]]:
        part = stage["stage"] if stage["stage"] in PARTS else "total"
        assert stage["floor_part"] == part, stage
        assert stage["ratio_duckdb"] == round(stage["wall_s"] / duck[f"{part}_s"], 2)
        assert stage["ratio_io_cpu"] == round(stage["cpu_s"] / io[f"{part}_cpu_s"], 2)
    for layer in PARTS:
        assert by_name[layer]["ratio_duckdb"] > 0 and by_name[layer]["ratio_io"] > 0
    assert report["pipeline_total"]["ratio_duckdb"] > 0 and report["pipeline_total"]["ratio_io"] > 0


def test_floors_are_measured_per_part_and_agree_with_the_pipeline(bench) -> None:
    report, _, _ = bench
    duck, io = report["floors"]["duckdb"], report["floors"]["io"]
    for floor in (duck, io):
        for unit in ("s", "cpu_s"):
            assert all(floor[f"{part}_{unit}"] > 0 for part in PARTS), floor
            assert floor[f"total_{unit}"] == pytest.approx(sum(floor[f"{part}_{unit}"] for part in PARTS))
    assert io["codec"] == "zstd"
    for step in ("read_sources", "write_bronze", "read_bronze", "write_silver", "read_silver", "write_gold"):
        assert io[f"{step}_bytes"] > 0, step
    correctness = report["correctness"]
    assert correctness["bronze_equal"] and correctness["silver_rows_equal"]
    assert correctness["bronze_rows_floor"] == correctness["bronze_rows_pipeline"]
    assert set(correctness["bronze_rows_pipeline"]) == {s.name for s in BRONZE_SPECS}
    assert all(days[report["parameters"]["history_days"][0]] > 0 for days in correctness["bronze_rows_pipeline"].values())
    assert all(n == 0 for days in correctness["bronze_rows_differing"].values() for n in days.values())
    assert correctness["silver_rows_floor"] == correctness["silver_rows_pipeline"]
    assert correctness["silver_rows_pipeline"]["lineitem"] > 0


def test_floor_bronze_holds_the_pipelines_rows(bench) -> None:
    """Every bronze table and day: the same columns and types, and EXCEPT ALL both ways over all but the run's own
    columns is empty; the floor wrote its own files (its run id), it did not copy the pipeline's."""
    report, _, _ = bench
    lake = Path(report["parameters"]["root"])
    con = duckdb.connect()
    for spec in BRONZE_SPECS:
        for day in report["parameters"]["history_days"]:
            pipeline = f"read_parquet('{lake / 'bronze' / spec.name}/ingestion_date={day}/*.parquet')"
            floor = f"read_parquet('{lake / 'bench' / 'duckdb_floor' / 'bronze' / spec.name}/ingestion_date={day}/*.parquet')"
            columns = con.execute(f"DESCRIBE SELECT * FROM {pipeline}").fetchall()
            assert con.execute(f"DESCRIBE SELECT * FROM {floor}").fetchall() == columns, (spec.name, day)
            picks = ", ".join(f'"{c[0]}"' for c in columns if c[0] not in RUN_COLUMNS)
            for a, b in ((pipeline, floor), (floor, pipeline)):
                extra = con.execute(f"SELECT count(*) FROM (SELECT {picks} FROM {a} EXCEPT ALL SELECT {picks} FROM {b})").fetchall()
                assert extra == [(0,)], (spec.name, day, a)
            assert con.execute(f"SELECT DISTINCT _run_id FROM {floor}").fetchall() == [("duckdb-floor",)]


def test_incremental_and_engine_overhead(bench) -> None:
    report, _, _ = bench
    inc = report["incremental"]
    assert inc["history_days"] == 1 and inc["first_day"] == report["parameters"]["history_days"][0]
    assert inc["extra_day"] == report["parameters"]["extra_day"] not in report["parameters"]["history_days"]
    assert inc["first_day_s"] > 0 and inc["extra_day_s"] > 0 and inc["ratio"] > 0
    engine = report["engine_overhead"]
    assert engine["engine"] == "duckdb" and engine["session_start_s"] is None  # DuckDB starts no JVM
    assert engine["gold_build_empty_s"] > 0 and engine["silver_build_empty_s"] > 0
    query = report["query_select_1"]
    assert query["runs"] == 5 and 0 < query["min_s"] <= query["median_s"] <= query["max_s"]


def test_markdown_holds_the_table(bench) -> None:
    report, markdown, done = bench
    assert ("| stage | wall s | CPU s | rows in | rows out | rows/s | bytes written | peak RSS | × DuckDB floor | × I/O floor "
            "| × DuckDB floor (CPU) | × I/O floor (CPU) |") in markdown
    for stage in STAGES:
        assert f"| {stage} |" in markdown
    assert report["machine"]["cpu_model"] in markdown and "Incremental cost" in markdown and "Engine overhead" in markdown
    assert "Floors (bronze + silver + gold = total" in markdown
    assert "Floor bronze rows equal the pipeline's per table and day: True" in markdown
    assert '`lakehouse query "SELECT 1"` (a fresh process, warm): median' in markdown
    assert "lakehouse bench --sf 0.01 --days 1" in markdown
    assert markdown in done.stdout
