"""TPC-H ground truth: generate the tables with tpchgen-cli and read them back as raw strings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

TABLES: tuple[str, ...] = ("region", "nation", "supplier", "part", "partsupp", "customer", "orders", "lineitem")
BATCH_ROWS = 20_000


def tpchgen_binary() -> str:
    """The tpchgen-cli executable: next to the running interpreter, else on PATH."""
    local = Path(sys.executable).parent / "tpchgen-cli"
    if local.exists():
        return str(local)
    found = shutil.which("tpchgen-cli")
    if found is None:
        raise FileNotFoundError("tpchgen-cli not found next to the Python interpreter or on PATH; pip install tpchgen-cli")
    return found


def generate_tpch(out_dir: Path, sf: float) -> dict[str, int]:
    """Write `<table>.parquet` for every TPC-H table at scale factor `sf`; return rows per table."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    subprocess.run([tpchgen_binary(), "parquet", "-s", str(sf), "-o", str(out_dir)], check=True, capture_output=True)
    return {t: pq.ParquetFile(out_dir / f"{t}.parquet").metadata.num_rows for t in TABLES}


def columns_of(tpch_dir: Path, table: str) -> list[str]:
    """The TPC-H column names of a table, in TPC-H order."""
    return list(pq.ParquetFile(tpch_dir / f"{table}.parquet").schema_arrow.names)


def as_text(columns: list[str], alias: str = "") -> str:
    """A select list casting every column to VARCHAR (decimals keep two places, dates are YYYY-MM-DD)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"CAST({prefix}{c} AS VARCHAR) AS {c}" for c in columns)


def text_rows(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> Iterator[list[list[str | None]]]:
    """Stream a query's result as batches of rows, each row a list of strings."""
    reader = con.sql(query, params=params or None).to_arrow_reader(BATCH_ROWS)
    for batch in reader:
        cols = [c.to_pylist() for c in batch.columns]
        yield [list(r) for r in zip(*cols)]
