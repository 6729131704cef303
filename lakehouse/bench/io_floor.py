"""I/O floor: pyarrow reading every bronze byte and writing every silver, quarantine and gold byte with the same codec.

Only the reads and writes are timed; loading the pipeline's own output tables into memory, so that
there is something of the same content to write, is not.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

CODEC = "zstd"


def _parquet_files(table_path: Path, days: list[str] | None = None) -> list[Path]:
    """The data files of a table (hidden, staging and trash folders skipped), only the given partitions if any."""
    if days is not None:
        folders = [table_path / f"ingestion_date={d}" for d in days]
    else:
        folders = [p for p in table_path.glob("ingestion_date=*")] or [table_path]
    return sorted(f for folder in folders if folder.is_dir() for f in folder.glob("*.parquet") if not f.name.startswith((".", "_")))


def _tables(layer: Path) -> list[Path]:
    return sorted(p for p in layer.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))) if layer.is_dir() else []


def _read_seconds(files: list[Path]) -> tuple[float, float, int]:
    """Wall and CPU seconds to read every file fully into Arrow, and the bytes of those files."""
    started, cpu = time.perf_counter(), time.process_time()
    for path in files:
        pq.read_table(path)
    return time.perf_counter() - started, time.process_time() - cpu, sum(f.stat().st_size for f in files)


def _write_seconds(table_path: Path, target: Path) -> tuple[float, float, int]:
    """Load a table untimed, then time writing it with the same codec and layout; wall and CPU seconds, bytes written."""
    dataset = pads.dataset(table_path, format="parquet", partitioning="hive", ignore_prefixes=[".", "_"])
    data = dataset.to_table()
    started, cpu = time.perf_counter(), time.process_time()
    if "ingestion_date" in data.column_names:
        data = data.set_column(data.column_names.index("ingestion_date"), "ingestion_date", data["ingestion_date"].cast(pa.string()))
        pq.write_to_dataset(data, target, partition_cols=["ingestion_date"], compression=CODEC)
    else:
        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(data, target / "part-00000.parquet", compression=CODEC)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return seconds, cpu_seconds, sum(f.stat().st_size for f in target.rglob("*.parquet"))


def run_io_floor(root: Path, days: list[str], out: Path) -> dict[str, Any]:
    """Time reading bronze (the days given), writing silver and quarantine, reading silver and writing gold."""
    shutil.rmtree(out, ignore_errors=True)
    parts = ("read_bronze", "write_silver", "read_silver", "write_gold")
    result: dict[str, Any] = {**{f"{p}_s": 0.0 for p in parts}, **{f"{p}_cpu_s": 0.0 for p in parts},
                              "bronze_bytes_read": 0, "silver_bytes_written": 0, "silver_bytes_read": 0, "gold_bytes_written": 0}

    def add(part: str, measured: tuple[float, float, int], size_key: str) -> None:
        result[f"{part}_s"] += measured[0]
        result[f"{part}_cpu_s"] += measured[1]
        result[size_key] += measured[2]

    for table in _tables(root / "bronze"):
        add("read_bronze", _read_seconds(_parquet_files(table, days)), "bronze_bytes_read")
    for layer in ("silver", "quarantine"):
        for table in _tables(root / layer):
            add("write_silver", _write_seconds(table, out / layer / table.name), "silver_bytes_written")
    for table in _tables(root / "silver"):
        add("read_silver", _read_seconds(_parquet_files(table)), "silver_bytes_read")
    for table in _tables(root / "gold"):
        add("write_gold", _write_seconds(table, out / "gold" / table.name), "gold_bytes_written")
    for suffix in ("s", "cpu_s"):
        result[f"silver_{suffix}"] = result[f"read_bronze_{suffix}"] + result[f"write_silver_{suffix}"]
        result[f"gold_{suffix}"] = result[f"read_silver_{suffix}"] + result[f"write_gold_{suffix}"]
        result[f"total_{suffix}"] = result[f"silver_{suffix}"] + result[f"gold_{suffix}"]
    shutil.rmtree(out, ignore_errors=True)
    return result
