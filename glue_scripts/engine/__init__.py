"""The engine boundary: transforms are SQL written once (DuckDB dialect), run by DuckDB or Spark.

A job picks its engine once, at its entry point (`--engine duckdb|spark`, Glue always spark), and hands the
`Engine` down; transforms only see relation names and return SQL. Every per-engine difference in meaning is
rendered in one place, `glue_scripts/engine/dialect.py`.
"""

from __future__ import annotations

from typing import Any, Protocol

from glue_scripts.engine.dialect import Columns

ENGINES: tuple[str, ...] = ("duckdb", "spark")


class Engine(Protocol):
    """Registers Parquet files as relations, derives relations by SQL, reads small results, writes partitions."""

    name: str

    def register(self, name: str, base_path: str, files: list[str], columns: Columns, partitioned: bool = True) -> str:
        """A relation of `columns` (cast to their declared types), plus `ingestion_date` (string, from the Hive
        folder) when `partitioned`, over exactly `files` under `base_path`; empty of that shape for no files."""
        ...

    def view(self, name: str, sql: str) -> str:
        """A relation defined by `sql` (canonical dialect), computed lazily where it is used; return its name."""
        ...

    def materialize(self, name: str, sql: str) -> str:
        """A relation defined by `sql`, computed now and kept for the engine's lifetime (later writes may replace
        the files it was read from); return its name."""
        ...

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """The (small) result of `sql` as Python values: Decimal, int, float, str, date, list."""
        ...

    def write(self, sql: str, table_path: str, partition: str, order_by: tuple[str, ...],
              sidecars: dict[str, bytes] | None = None) -> dict[str, Any]:
        """Replace one partition with the rows of `sql` in one file sorted by `order_by`, through the one write
        path; return rows, bytes, files and path."""
        ...

    def close(self) -> None:
        """Release what the engine holds (cached or temporary relations)."""
        ...


def make_engine(name: str, spark: Any = None) -> Engine:
    """The engine called `name`; `spark` is the job's session (used, and required, only by the spark engine)."""
    if name == "duckdb":
        from glue_scripts.engine.duck import DuckDBEngine

        return DuckDBEngine()
    if name == "spark":
        from glue_scripts.engine.spark import SparkEngine

        if spark is None:
            raise ValueError("the spark engine needs the job's Spark session")
        return SparkEngine(spark)
    raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}")
