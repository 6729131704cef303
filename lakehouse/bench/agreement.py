"""Whether the DuckDB floor did the pipeline's work: the same bronze rows per table and day, the same silver counts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from glue_scripts.common import catalogue
from glue_scripts.common.specs import BRONZE_SPECS

SILVER_TABLES: tuple[str, ...] = catalogue.names("silver")
# Metadata that says when and by which run a row was written, not what it holds.
RUN_COLUMNS = frozenset({"_ingested_at", "_run_id"})


def _files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.glob("*.parquet") if not f.name.startswith((".", "_")))


def bronze_rows(bronze: Path, days: list[str]) -> dict[str, dict[str, int]]:
    """Rows per bronze table and day, from the Parquet footers."""
    return {spec.name: {d: sum(pq.read_metadata(f).num_rows for f in _files(bronze / spec.name / f"ingestion_date={d}"))
                        for d in days} for spec in BRONZE_SPECS}


def silver_rows(root: Path) -> dict[str, int]:
    """Rows per table in the pipeline's silver layer."""
    return {t: sum(pq.read_metadata(f).num_rows for f in (root / "silver" / t).glob("ingestion_date=*/*.parquet")
                   if not f.name.startswith((".", "_"))) for t in SILVER_TABLES}


def _glob(bronze: Path, table: str, day: str) -> str:
    return f"read_parquet('{bronze / table / f'ingestion_date={day}'}/*.parquet')"


def bronze_differences(pipeline: Path, floor: Path, days: list[str], work: Path) -> dict[str, dict[str, int]]:
    """Per table and day, the rows one side holds and the other does not (`EXCEPT ALL` both ways, summed) over every
    column but the run's own (`_ingested_at`, `_run_id`); -1 where the two partitions' columns differ."""
    work.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '4GB'; SET temp_directory = '{work}'; SET enable_progress_bar = false")
    out: dict[str, dict[str, int]] = {}
    for spec in BRONZE_SPECS:
        for day in days:
            ours, theirs = _glob(pipeline, spec.name, day), _glob(floor, spec.name, day)
            columns = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {ours}").fetchall()]
            if columns != [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {theirs}").fetchall()]:
                out.setdefault(spec.name, {})[day] = -1
                continue
            picks = ", ".join(f'"{name}"' for name, _ in columns if name not in RUN_COLUMNS)
            rows = con.execute(f"""SELECT (SELECT count(*) FROM (SELECT {picks} FROM {ours} EXCEPT ALL SELECT {picks} FROM {theirs}))
                + (SELECT count(*) FROM (SELECT {picks} FROM {theirs} EXCEPT ALL SELECT {picks} FROM {ours}))""").fetchall()
            out.setdefault(spec.name, {})[day] = int(rows[0][0])
    con.close()
    return out


@dataclass(frozen=True)
class Agreement:
    """The pipeline's and the floor's bronze rows per table and day, their differences, and both silver counts."""

    bronze_rows_pipeline: dict[str, dict[str, int]]
    bronze_rows_floor: dict[str, dict[str, int]]
    bronze_differences: dict[str, dict[str, int]]
    silver_rows_pipeline: dict[str, int]
    silver_rows_floor: dict[str, int]

    @property
    def bronze_equal(self) -> bool:
        """Every table and day holds the same rows on both sides."""
        return (self.bronze_rows_pipeline == self.bronze_rows_floor
                and all(n == 0 for days in self.bronze_differences.values() for n in days.values()))

    @property
    def silver_equal(self) -> bool:
        """Every silver table has as many rows on both sides."""
        return self.silver_rows_pipeline == self.silver_rows_floor

    def problems(self) -> list[str]:
        """What differs, one line each (empty when the floor agrees)."""
        lines = [f"bronze {table} {day}: {n} rows differ" if n > 0 else f"bronze {table} {day}: the columns differ"
                 for table, days in self.bronze_differences.items() for day, n in days.items() if n]
        if self.bronze_rows_pipeline != self.bronze_rows_floor:
            lines.append(f"bronze rows: pipeline {self.bronze_rows_pipeline}, floor {self.bronze_rows_floor}")
        if not self.silver_equal:
            lines.append(f"silver rows: pipeline {self.silver_rows_pipeline}, floor {self.silver_rows_floor}")
        return lines

    def as_dict(self) -> dict[str, Any]:
        """The report's `correctness` section."""
        return {"bronze_rows_pipeline": self.bronze_rows_pipeline, "bronze_rows_floor": self.bronze_rows_floor,
                "bronze_rows_differing": self.bronze_differences, "bronze_equal": self.bronze_equal,
                "silver_rows_pipeline": self.silver_rows_pipeline, "silver_rows_floor": self.silver_rows_floor,
                "silver_rows_equal": self.silver_equal}
