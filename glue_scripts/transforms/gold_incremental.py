"""Incremental gold marts: partial aggregates per silver partition, re-aggregated into the mart.

For a mart with `Partials`, `<gold_path>/_partials/<mart>/ingestion_date=<D>/` holds the partial aggregate
of silver partition `<source>/ingestion_date=<D>/` and, in `_signature.json`, the signature of that silver
partition (digest of its data files' names, sizes and modification times, and of the partial's definition).
Silver replaces a partition's files whenever it writes it (a new day, a re-run, or an older partition
rewritten because it lost a key), so a changed signature is exactly a partition whose partial is stale.
A build recomputes the stale and missing partials in one pass over only those silver partitions, drops
partials whose silver partition is gone, sums the partials of the current partitions to the mart's keys
and finishes the mart (averages and ratios from the summed sums and counts, dimension joins last).
Each partial is swapped in whole with its signature, so a crash leaves every partial either matching its
stored signature or absent, and the next build recomputes whatever does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Any

import pyarrow.fs as pafs
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_scripts.common import spark_io, writer
from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.transforms.gold import MARTS_BY_NAME, Mart, Partials, build_mart, conform_input, input_schema

PARTIALS = "_partials"
SIGNATURE = "_signature.json"
PARTITION = "ingestion_date"
DAY = "_partial_day"


def partials_path(gold_path: str, mart: str) -> str:
    """Where the partials of `mart` live: `<gold_path>/_partials/<mart>` (skipped by gold readers)."""
    return join(gold_path, PARTIALS, mart)


def partition_files(table_path: str) -> dict[str, list[tuple[str, int, int]]]:
    """The data files of every `ingestion_date=<D>` partition of a table: day -> sorted (name, size, mtime_ns)."""
    fs, root = filesystem_for(table_path)
    files: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for info in fs.get_file_info(pafs.FileSelector(root, allow_not_found=True, recursive=True)):
        parts = info.path[len(root):].strip("/").split("/")
        if not info.is_file or len(parts) < 2 or not parts[0].startswith(f"{PARTITION}="):
            continue
        if any(p.startswith(("_", ".")) for p in parts):
            continue
        files[parts[0].split("=", 1)[1]].append(("/".join(parts[1:]), int(info.size or 0), int(info.mtime_ns or 0)))
    return {day: sorted(entries) for day, entries in files.items()}


def signature(spec: Partials, partial_schema: str, files: list[tuple[str, int, int]]) -> str:
    """Digest of one silver partition's files together with the partial's definition (version and schema)."""
    payload = json.dumps([spec.source, spec.version, partial_schema, files], separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def stored_signatures(path: str) -> dict[str, str]:
    """Day -> the silver signature recorded with each stored partial (partials without one are left out)."""
    fs, root = filesystem_for(path)
    stored: dict[str, str] = {}
    for info in fs.get_file_info(pafs.FileSelector(root, allow_not_found=True)):
        if info.type != pafs.FileType.Directory or not info.base_name.startswith(f"{PARTITION}="):
            continue
        marker = info.path + "/" + SIGNATURE
        if fs.get_file_info(marker).type != pafs.FileType.File:
            continue
        with fs.open_input_stream(marker) as handle:
            stored[info.base_name.split("=", 1)[1]] = json.loads(handle.read().decode("utf-8"))["signature"]
    return stored


def _partition_paths(table_path: str, days: list[str]) -> list[str]:
    return [join(table_path, f"{PARTITION}={day}") for day in days]


def refresh_partials(
    spark: SparkSession, mart: Mart, silver_path: str, gold_path: str
) -> tuple[list[str], dict[str, Any]]:
    """Match the stored partials to the source's silver partitions; return its days and what was recomputed."""
    spec = _partials_of(mart)
    source_path, target = join(silver_path, spec.source), partials_path(gold_path, mart.name)
    schema = _empty_partial(spark, spec).schema.simpleString()
    current = {day: signature(spec, schema, files) for day, files in partition_files(source_path).items()}
    stored = stored_signatures(target)
    stale = sorted(day for day, sig in current.items() if stored.get(day) != sig)
    gone = sorted(set(stored) - set(current))
    if stale:
        rows = spark.read.option("basePath", source_path).parquet(*_partition_paths(source_path, stale))
        typed = conform_input(rows.withColumn(DAY, F.col(PARTITION).cast("string")), spec.source, keep=(DAY,))
        partials = spec.partial(typed, (DAY,)).persist()
        try:
            for day in stale:
                content = json.dumps({"signature": current[day], "silver_partition": f"{PARTITION}={day}"})
                one = partials.where(F.col(DAY) == day).drop(DAY).coalesce(1).sortWithinPartitions(*spec.keys)
                spark_io.write_partition(one, target, f"{PARTITION}={day}", {SIGNATURE: content.encode("utf-8")})
        finally:
            partials.unpersist()
    for day in gone:
        writer.remove(target, f"{PARTITION}={day}")
    report = {"partials_recomputed": stale, "partials_removed": gone, "partials_reused": len(current) - len(stale)}
    return sorted(current), report


def from_partials(spark: SparkSession, mart: Mart, days: list[str], gold_path: str,
                  inputs: dict[str, DataFrame]) -> DataFrame:
    """The mart from the stored partials of `days` (summed to the partial keys), finished with its other inputs."""
    spec = _partials_of(mart)
    empty = _empty_partial(spark, spec)
    target = partials_path(gold_path, mart.name)
    stored = spark.read.option("basePath", target).parquet(*_partition_paths(target, days)) if days else empty
    measures = [f for f in empty.schema.fields if f.name not in spec.keys]
    summed = stored.groupBy(*spec.keys).agg(*[F.sum(f.name).cast(f.dataType).alias(f.name) for f in measures])
    others = [conform_input(inputs[t], t) for t in mart.inputs if t != spec.source]
    return spec.finish(summed, *others)


def build(spark: SparkSession, name: str, inputs: dict[str, DataFrame], silver_path: str,
          gold_path: str) -> tuple[DataFrame, dict[str, Any]]:
    """Mart `name` and how it was computed: from refreshed partials when it has them, else in full from `inputs`."""
    mart = MARTS_BY_NAME[name]
    if mart.partials is None:
        return build_mart(name, inputs), {"recompute": "full"}
    days, report = refresh_partials(spark, mart, silver_path, gold_path)
    return from_partials(spark, mart, days, gold_path, inputs), {"recompute": "incremental", **report}


def _partials_of(mart: Mart) -> Partials:
    if mart.partials is None:
        raise ValueError(f"mart {mart.name!r} has no partials; it is a full recompute")
    return mart.partials


def _empty_partial(spark: SparkSession, spec: Partials) -> DataFrame:
    return spec.partial(spark.createDataFrame([], input_schema(spec.source)), ())
