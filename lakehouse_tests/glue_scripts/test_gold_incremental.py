"""gold_build incremental marts, on both engines: partials per silver partition give exactly the full recompute
(the mart's own SQL over all of silver, on DuckDB), day after day."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from glue_scripts.common.fs import join
from glue_scripts.common.reports import MartBuild
from glue_scripts.common.writer import write_arrow
from glue_scripts.engine.dialect import render, typed_select
from glue_scripts.engine.duck import DuckDBEngine
from glue_scripts.engine.io import register_table
from glue_scripts.jobs.gold_build import run
from glue_scripts.common import gold_job
from glue_scripts.transforms.gold import MARTS, MARTS_BY_NAME, input_columns
from lakehouse_tests.glue_scripts.helpers import one_day, silver_table

pytestmark = pytest.mark.usefixtures("one_shuffle_partition")

INCREMENTAL = [m.name for m in MARTS if m.partials is not None]
D1, D2, D3 = "2024-01-01", "2024-01-02", "2024-01-03"


@pytest.fixture(scope="module")
def tpch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    """Real TPC-H lineitem and supplier at SF 0.001, typed as silver."""
    out = tmp_path_factory.mktemp("tpch")
    tpchgen = str(Path(sys.executable).parent / "tpchgen-cli")
    subprocess.run([tpchgen, "parquet", "-s", "0.001", "--tables=lineitem,supplier", "-o", str(out)], check=True)
    tables = {}
    for name in ("lineitem", "supplier"):
        tables[name] = silver_table(out, name)
    return tables


def _write_silver(silver: Path, table: str, day: str, rows: pa.Table) -> None:
    rows = rows.append_column("_ingestion_date", pa.array([day] * rows.num_rows, pa.string()))
    rows = rows.append_column("_run_id", pa.array([f"silver-{day}"] * rows.num_rows, pa.string()))
    write_arrow(rows, str(silver / table), f"ingestion_date={day}")


def _superseded(lines: pa.Table) -> pa.Table:
    """Later versions of the same lineitem keys: other quantity, price, flag, ship period and lateness."""
    rows = lines.to_pylist()
    for row in rows:
        row["l_quantity"] += Decimal("1.00")
        row["l_extendedprice"] += Decimal("0.37")
        row["l_returnflag"] = "A" if row["l_returnflag"] != "A" else "R"
        row["l_shipdate"] += timedelta(days=400)
        row["l_receiptdate"] = row["l_commitdate"] + timedelta(days=3)
    return pa.Table.from_pylist(rows, lines.schema)


def _grain_key(row: Any, grain: tuple[str, ...]) -> tuple:
    return tuple((row[g] is None, row[g]) for g in grain)


def _full_recompute(silver: Path, mart: str) -> pa.Table:
    """The mart's own full build over every silver partition, typed as declared, on DuckDB."""
    definition, engine = MARTS_BY_NAME[mart], DuckDBEngine()
    try:
        inputs = [register_table(engine, t, join(str(silver), t), input_columns(t)) for t in definition.inputs]
        typed = typed_select(definition.columns, f"({definition.build(*inputs)}) AS m")
        return engine.con.sql(render(typed, engine.name)).to_arrow_table()
    finally:
        engine.close()


def _build(spark: SparkSession | None, engine: str, silver: Path, gold: Path, day: str,
           marts: list[str]) -> dict[str, MartBuild]:
    """Run gold_build for each mart and assert each mart equals the full recompute from the same silver."""
    results = {}
    for mart in marts:
        args = {"mart": mart, "ingestion_date": day, "silver_path": str(silver), "gold_path": str(gold), "run_id": day,
                "engine": engine}
        results[mart] = result = one_day(run(spark, args))
        grain = MARTS_BY_NAME[mart].grain
        full = _full_recompute(silver, mart)
        built = pq.read_table(result.path)
        assert built.schema.names == full.schema.names and built.schema.types == full.schema.types, mart
        expected = sorted(full.to_pylist(), key=lambda row: _grain_key(row, grain))
        actual = built.to_pylist()
        assert actual == expected and len(actual) > 0, mart
        assert [[str(v) for v in row.values()] for row in actual] == [[str(v) for v in row.values()] for row in expected]
        assert all(r.equal for r in result.quality.reconciliation.values()), mart
    return results


def _recompute(results: dict[str, MartBuild]) -> set[tuple]:
    """The one (recomputed, removed, reused) report every incremental mart must share."""
    return {(r.partials.recomputed, r.partials.removed, r.partials.reused) if r.partials else None
            for r in results.values()}


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_incremental_marts_equal_full_recompute_day_after_day(
    spark: SparkSession, engine: str, tpch: dict[str, pa.Table], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    silver, gold = tmp_path / "silver", tmp_path / "gold"
    lines = tpch["lineitem"]
    third = lines.num_rows // 3
    first, second, third_day = lines.slice(0, third), lines.slice(third, third), lines.slice(2 * third)
    _write_silver(silver, "supplier", D1, tpch["supplier"])

    _write_silver(silver, "lineitem", D1, first)
    results = _build(spark, engine, silver, gold, D1, INCREMENTAL)
    assert _recompute(results) == {((D1,), (), 0)}
    assert {r.recompute for r in results.values()} == {"incremental"}

    _write_silver(silver, "lineitem", D2, second)
    assert _recompute(_build(spark, engine, silver, gold, D2, INCREMENTAL)) == {((D2,), (), 1)}

    # Day 3 brings newer versions of 40 day-1 lines: silver writes them in D3 and rewrites D1 without them.
    moved = _superseded(first.slice(0, 40))
    _write_silver(silver, "lineitem", D3, pa.concat_tables([third_day, moved]))
    _write_silver(silver, "lineitem", D1, first.slice(40))
    assert _recompute(_build(spark, engine, silver, gold, D3, INCREMENTAL)) == {((D1, D3), (), 1)}

    # A re-run of day 3 rewrites its partition with the same rows: only that partial is recomputed.
    _write_silver(silver, "lineitem", D3, pa.concat_tables([third_day, moved]))
    assert _recompute(_build(spark, engine, silver, gold, D3, INCREMENTAL)) == {((D3,), (), 2)}

    # Nothing changed in silver: every partial is reused.
    assert _recompute(_build(spark, engine, silver, gold, D3, INCREMENTAL)) == {((), (), 3)}

    # A silver partition that disappears takes its partial with it.
    shutil.rmtree(silver / "lineitem" / f"ingestion_date={D2}")
    assert _recompute(_build(spark, engine, silver, gold, D3, INCREMENTAL)) == {((), (D2,), 2)}
    for mart in INCREMENTAL:
        stored = sorted(p.name for p in (gold / "_partials" / mart).glob("ingestion_date=*"))
        assert stored == [f"ingestion_date={D1}", f"ingestion_date={D3}"]

    # A new partial definition (version) invalidates every stored partial.
    mart = MARTS_BY_NAME["pricing_summary"]
    assert mart.partials is not None
    bumped = replace(mart, partials=replace(mart.partials, version=mart.partials.version + 1))
    monkeypatch.setitem(gold_job.MARTS_BY_NAME, mart.name, bumped)
    assert _recompute(_build(spark, engine, silver, gold, D3, [mart.name])) == {((D1, D3), (), 0)}


def test_marts_without_partials_stay_full_recomputes(tpch: dict[str, pa.Table], tmp_path: Path) -> None:
    silver, gold = tmp_path / "silver", tmp_path / "gold"
    _write_silver(silver, "lineitem", D1, tpch["lineitem"])
    result = _build(None, "duckdb", silver, gold, D1, ["part_demand"])["part_demand"]
    assert result.recompute == "full" and result.partials is None
    assert not (gold / "_partials").exists()
