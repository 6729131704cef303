"""Smoke test of `lakehouse bench` at SF 0.01: one day and its incremental day write a complete report."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
LAKEHOUSE = str(Path(sys.executable).with_name("lakehouse"))
STAGES = ["simulate", "bronze", "silver", "gold", "snowflake", "dagster overhead"]
STAGE_FIELDS = {"stage", "wall_s", "cpu_s", "rows_in", "rows_out", "rows_per_s", "bytes_written", "peak_rss_bytes",
                "ratio_duckdb", "ratio_io", "ratio_duckdb_cpu", "ratio_io_cpu"}


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
    for layer in ("silver", "gold"):
        assert by_name[layer]["ratio_duckdb"] > 0 and by_name[layer]["ratio_io"] > 0
    assert report["pipeline_total"]["ratio_duckdb"] > 0 and report["pipeline_total"]["ratio_io"] > 0


def test_floors_are_measured_and_agree_with_the_pipeline(bench) -> None:
    report, _, _ = bench
    duck, io = report["floors"]["duckdb"], report["floors"]["io"]
    assert duck["silver_s"] > 0 and duck["gold_s"] > 0 and io["silver_s"] > 0 and io["gold_s"] > 0
    assert duck["total_cpu_s"] > 0 and io["total_cpu_s"] > 0
    assert io["codec"] == "zstd" and io["bronze_bytes_read"] > 0 and io["gold_bytes_written"] > 0
    assert report["correctness"]["silver_rows_equal"]
    assert report["correctness"]["silver_rows_floor"] == report["correctness"]["silver_rows_pipeline"]
    assert report["correctness"]["silver_rows_pipeline"]["lineitem"] > 0


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
    assert '`lakehouse query "SELECT 1"` (a fresh process, warm): median' in markdown
    assert "lakehouse bench --sf 0.01 --days 1" in markdown
    assert markdown in done.stdout
