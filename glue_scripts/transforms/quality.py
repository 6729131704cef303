"""Spark reading of a whole Parquet table, for the bronze database job's history (silver quality: silver_quality.py)."""

from __future__ import annotations

import pyarrow.fs as pafs
from pyspark.sql import DataFrame, SparkSession

from glue_scripts.common.fs import filesystem_for, join


def read_table(spark: SparkSession, table_path: str) -> DataFrame | None:
    """The current rows of a Parquet table (all partitions), or None when it has no files yet."""
    fs, path = filesystem_for(table_path)
    infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=True))
    if not any(i.is_file and i.base_name.endswith(".parquet") and "/_" not in i.path[len(path):] for i in infos):
        return None
    return spark.read.option("basePath", table_path).parquet(join(table_path, "ingestion_date=*"))
