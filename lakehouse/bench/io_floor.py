"""I/O floor: pyarrow reading every source and bronze byte and writing every bronze, silver, quarantine and gold byte
with the same codec.

Only the reads and writes are timed; loading the pipeline's own output tables into memory, so that
there is something of the same content to write, is not.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from glue_scripts.common.specs import BRONZE_SPECS
from lakehouse.bench.bronze_floor import CODEC
from lakehouse.bench.costs import Cost, FloorCost

CHUNK = 1 << 20
# Each part: the reads and writes it times, in order. Bronze reads the sources and writes bronze.
PARTS: dict[str, tuple[str, str]] = {"bronze": ("read_sources", "write_bronze"), "silver": ("read_bronze", "write_silver"),
                                     "gold": ("read_silver", "write_gold")}
Timed = tuple[float, float, int]  # wall seconds, CPU seconds, bytes


def _parquet_files(table_path: Path, days: list[str] | None = None) -> list[Path]:
    """The data files of a table (hidden, staging and trash folders skipped), only the given partitions if any."""
    if days is not None:
        folders = [table_path / f"ingestion_date={d}" for d in days]
    else:
        folders = [p for p in table_path.glob("ingestion_date=*")] or [table_path]
    return sorted(f for folder in folders if folder.is_dir() for f in folder.glob("*.parquet") if not f.name.startswith((".", "_")))


def _tables(layer: Path) -> list[Path]:
    return sorted(p for p in layer.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))) if layer.is_dir() else []


def _timed(work: Callable[[], int]) -> Timed:
    started, cpu = time.perf_counter(), time.process_time()
    size = work()
    return time.perf_counter() - started, time.process_time() - cpu, size


def _read_seconds(files: list[Path]) -> Timed:
    """Wall and CPU seconds to read every Parquet file fully into Arrow, and the bytes of those files."""
    def read() -> int:
        for path in files:
            pq.read_table(path)
        return sum(f.stat().st_size for f in files)
    return _timed(read)


def _read_bytes_seconds(files: list[Path]) -> Timed:
    """Wall and CPU seconds to read every byte of the given files, and how many."""
    def read() -> int:
        total = 0
        for path in files:
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    total += len(chunk)
        return total
    return _timed(read)


def _source_files(root: Path, days: list[str]) -> list[Path]:
    """What the sources deliver for the days: the database, the API's record store and every landing file."""
    landing = [f for spec in BRONZE_SPECS if spec.source in ("files", "logs")
               for d in days for f in (root / "landing" / spec.source / spec.entity / f"ingestion_date={d}").glob("*")]
    return [root / "sources" / "db" / "source.sqlite", root / "sources" / "api" / "customers.jsonl",
            *sorted(f for f in landing if f.is_file())]


def _rewrite_seconds(files: list[Path], source: Path, target: Path) -> Timed:
    """Load each file untimed, then time writing it again with the codec at the same relative path."""
    seconds = cpu_seconds = 0.0
    size = 0
    for path in files:
        data = pq.read_table(path)
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        wall, cpu, _ = _timed(lambda: pq.write_table(data, out, compression=CODEC) or 0)
        seconds, cpu_seconds, size = seconds + wall, cpu_seconds + cpu, size + out.stat().st_size
    return seconds, cpu_seconds, size


def _write_seconds(table_path: Path, target: Path) -> Timed:
    """Load a table untimed, then time writing it with the same codec and layout; wall and CPU seconds, bytes written."""
    dataset = pads.dataset(table_path, format="parquet", partitioning="hive", ignore_prefixes=[".", "_"])
    data = dataset.to_table()

    def write() -> int:
        if "ingestion_date" in data.column_names:
            typed = data.set_column(data.column_names.index("ingestion_date"), "ingestion_date", data["ingestion_date"].cast(pa.string()))
            pq.write_to_dataset(typed, target, partition_cols=["ingestion_date"], compression=CODEC)
        else:
            target.mkdir(parents=True, exist_ok=True)
            pq.write_table(data, target / "part-00000.parquet", compression=CODEC)
        return 0

    wall, cpu, _ = _timed(write)
    return wall, cpu, sum(f.stat().st_size for f in target.rglob("*.parquet"))


@dataclass(frozen=True)
class IOFloorResult:
    """What the I/O floor cost per part, each timed read and write on its own, and the bytes each moved."""

    cost: FloorCost
    steps: dict[str, Cost]
    bytes: dict[str, int]
    codec: str = CODEC

    def as_dict(self) -> dict[str, Any]:
        """The report's `floors.io` section."""
        steps = {f"{name}_{unit}": value for name, cost in self.steps.items()
                 for unit, value in (("s", cost.wall_s), ("cpu_s", cost.cpu_s))}
        return {**self.cost.as_dict(), **steps, **{f"{name}_bytes": n for name, n in self.bytes.items()}, "codec": self.codec}


def run_io_floor(root: Path, days: list[str], out: Path) -> IOFloorResult:
    """Time reading the sources and writing bronze (the days given), reading bronze and writing silver and quarantine,
    reading silver and writing gold."""
    shutil.rmtree(out, ignore_errors=True)
    steps = {step: Cost() for pair in PARTS.values() for step in pair}
    sizes = {step: 0 for step in steps}

    def add(step: str, measured: Timed) -> None:
        steps[step] += Cost(measured[0], measured[1])
        sizes[step] += measured[2]

    add("read_sources", _read_bytes_seconds(_source_files(root, days)))
    for table in _tables(root / "bronze"):
        add("write_bronze", _rewrite_seconds(_parquet_files(table, days), root / "bronze", out / "bronze"))
        add("read_bronze", _read_seconds(_parquet_files(table, days)))
    for layer in ("silver", "quarantine"):
        for table in _tables(root / layer):
            add("write_silver", _write_seconds(table, out / layer / table.name))
    for table in _tables(root / "silver"):
        add("read_silver", _read_seconds(_parquet_files(table)))
    for table in _tables(root / "gold"):
        add("write_gold", _write_seconds(table, out / "gold" / table.name))
    parts = {part: steps[read] + steps[write] for part, (read, write) in PARTS.items()}
    shutil.rmtree(out, ignore_errors=True)
    return IOFloorResult(FloorCost(**parts), steps, sizes)
