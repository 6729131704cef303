"""Spark's Parquet reads by literal file list, with each distinct file schema inferred once per process.

Without a schema, every `spark.read.parquet` runs a Spark job that reads the first file's footer to infer one
(`ParquetUtils.inferSchema`); a silver run registers about ten relations, so that was ten small jobs per run. The
inferred schema depends only on that footer's schema (and the session's settings), so it is kept by the footer's
schema text and handed back to the reader, which then infers only the Hive partition columns, as before.
"""

from __future__ import annotations

import re

import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from glue_scripts.common.fs import filesystem_for

# Footer schema text -> the data columns Spark inferred from a file with that footer (partition columns left out).
_INFERRED: dict[str, StructType] = {}
# Footers read per relation at most (each a request on S3); a relation over more files is inferred by Spark.
MAX_FOOTERS = 64


def literal_path(path: str) -> str:
    """A file path as Spark's reader takes it literally: Spark globs any path holding `{}[]*?\\`, so escape them."""
    return re.sub(r"([\\{}\[\]*?])", r"\\\1", path)


def footer_schema(path: str) -> tuple[str, tuple[str, ...]]:
    """The Parquet schema of the file at `path` (the footer only) as text, physical types, annotations and nesting
    included, and its top-level column names."""
    fs, local = filesystem_for(path)
    schema = pq.read_metadata(local, filesystem=fs).schema
    return str(schema).split("\n", 1)[1], tuple(schema.to_arrow_schema().names)


def partition_columns(base_path: str, path: str) -> list[str] | None:
    """The Hive partition columns Spark discovers for the file `path` under `base_path` (`k=v` folders between);
    None when `path` is not under `base_path`."""
    base = base_path.rstrip("/") + "/"
    if not path.startswith(base):
        return None
    return [folder.split("=", 1)[0] for folder in path[len(base):].split("/")[:-1] if "=" in folder]


def read_parquet(spark: SparkSession, base_path: str, files: list[str]) -> DataFrame:
    """The rows of exactly `files` (at least one) with the Hive partition columns of their folders under
    `base_path`, typed as Spark infers them; from the schema kept for their footer when they all share one."""
    reader = spark.read.option("basePath", base_path)
    paths = [literal_path(f) for f in files]
    footers = {footer_schema(f) for f in files} if len(files) <= MAX_FOOTERS else set()
    if len(footers) != 1:  # which file Spark infers from is then not ours to say
        return reader.parquet(*paths)
    ((key, names),) = footers
    if key in _INFERRED:
        return reader.schema(_INFERRED[key]).parquet(*paths)
    frame = reader.parquet(*paths)
    partitions = partition_columns(base_path, files[0])
    if partitions is not None and not set(partitions) & set(names):  # else Spark merges a column with a folder's
        _INFERRED[key] = StructType([f for f in frame.schema.fields if f.name not in partitions])
    return frame
