"""Spark side of the one write path: write a DataFrame to staging, then commit it whole."""

from __future__ import annotations

from typing import Any

import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyspark.sql import DataFrame

from glue_scripts.common import writer
from glue_scripts.common.fs import filesystem_for


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


def parquet_stats(path: str) -> dict[str, int]:
    """Rows (from footers, no data read), bytes and file count of the Parquet files under `path`."""
    fs, root = filesystem_for(path)
    infos = [
        i
        for i in fs.get_file_info(pafs.FileSelector(root, allow_not_found=True, recursive=True))
        if i.is_file and i.base_name.endswith(".parquet") and not i.base_name.startswith((".", "_"))
    ]
    rows = 0
    for info in infos:
        with fs.open_input_file(info.path) as handle:
            rows += pq.ParquetFile(handle).metadata.num_rows
    return {"rows": rows, "bytes": sum(i.size for i in infos), "files": len(infos)}
