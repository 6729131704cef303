"""Spark side of the one write path: write a DataFrame to staging, then commit it whole (`parquet_stats` lives in writer)."""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame

from glue_scripts.common import writer
from glue_scripts.common.writer import parquet_stats


def write_partition(
    df: DataFrame, table_path: str, partition: str, sidecars: dict[str, bytes] | None = None
) -> dict[str, Any]:
    """Replace one partition with `df` and any `_`-named `sidecars` files; return rows, bytes, files and path."""
    write = writer.begin(table_path, partition)
    try:
        df.write.mode("overwrite").parquet(write.staging_path)
        stats = parquet_stats(write.staging_path)
        for name, content in (sidecars or {}).items():
            writer.write_sidecar(write, name, content)
        writer.commit(write)
    except BaseException:
        writer.abort(write)
        raise
    return {**stats, "path": write.final_path}
