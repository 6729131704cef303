"""Incremental gold marts: partial aggregates per silver partition, re-aggregated into the mart.

For a mart with `Partials`, `<gold_path>/_partials/<mart>/ingestion_date=<D>/` holds the partial aggregate
of silver partition `<source>/ingestion_date=<D>/` and, in `_signature.json`, the signature of that silver
partition (digest of its data files' names, sizes and modification times, and of the partial's definition).
Silver replaces a partition's files whenever it writes it (a new day, a re-run, or an older partition
rewritten because it lost a key), so a changed signature is exactly a partition whose partial is stale.
A build recomputes the stale and missing partials in one pass over only those silver partitions, drops
partials whose silver partition is gone, sums the partials of the current partitions to the mart's keys
and finishes the mart (averages and ratios from the summed sums and counts, dimension joins last).
Everything runs on the job's `Engine`, read by literal file lists (`glue_scripts/engine/io.py`).
Each partial is swapped in whole with its signature, so a crash leaves every partial either matching its
stored signature or absent, and the next build recomputes whatever does not match.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pyarrow.fs as pafs

from glue_scripts.common import writer
from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.engine import Engine
from glue_scripts.engine.dialect import literal, sql_type
from glue_scripts.engine.io import PARTITION, FileEntry, file_paths, partition_files, register_table
from glue_scripts.transforms.gold import MARTS_BY_NAME, Mart, Partials, input_columns

PARTIALS = "_partials"
SIGNATURE = "_signature.json"
DAY = "_partial_day"


def partials_path(gold_path: str, mart: str) -> str:
    """Where the partials of `mart` live: `<gold_path>/_partials/<mart>` (skipped by gold readers)."""
    return join(gold_path, PARTIALS, mart)


def signature(spec: Partials, files: list[FileEntry]) -> str:
    """Digest of one silver partition's files together with the partial's definition (version and columns)."""
    payload = json.dumps([spec.source, spec.version, spec.columns, files], separators=(",", ":"))
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


def _typed(spec: Partials, sql: str, keep: tuple[str, ...] = ()) -> str:
    casts = [f"CAST({name} AS {sql_type(kind)}) AS {name}" for name, kind in spec.columns]
    return f"SELECT {', '.join([*keep, *casts])} FROM ({sql}) AS p"


def refresh_partials(engine: Engine, mart: Mart, silver_path: str, gold_path: str) -> tuple[list[str], dict[str, Any]]:
    """Match the stored partials to the source's silver partitions; return its days and what was recomputed."""
    spec = _partials_of(mart)
    source_path, target = join(silver_path, spec.source), partials_path(gold_path, mart.name)
    listing = partition_files(source_path)
    current = {day: signature(spec, files) for day, files in listing.items()}
    stored = stored_signatures(target)
    stale = sorted(day for day, sig in current.items() if stored.get(day) != sig)
    gone = sorted(set(stored) - set(current))
    if stale:
        files = file_paths(source_path, listing, stale)
        rows = engine.register(f"{spec.source}_stale", source_path, files, input_columns(spec.source))
        dated = f"(SELECT *, ingestion_date AS {DAY} FROM {rows} AS ro)"
        partials = engine.materialize(f"{mart.name}_partials", _typed(spec, spec.partial(dated, (DAY,)), (DAY,)))
        names = ", ".join(name for name, _ in spec.columns)
        for day in stale:
            content = json.dumps({"signature": current[day], "silver_partition": f"{PARTITION}={day}"})
            one = f"SELECT {names} FROM {partials} AS pa WHERE {DAY} = {literal(day)}"
            engine.write(one, target, f"{PARTITION}={day}", spec.keys, {SIGNATURE: content.encode("utf-8")})
    for day in gone:
        writer.remove(target, f"{PARTITION}={day}")
    report = {"partials_recomputed": stale, "partials_removed": gone, "partials_reused": len(current) - len(stale)}
    return sorted(current), report


def from_partials(engine: Engine, mart: Mart, days: list[str], gold_path: str, inputs: dict[str, str]) -> str:
    """SQL of the mart from the stored partials of `days` summed to the partial keys, finished with its other inputs."""
    spec = _partials_of(mart)
    stored = register_table(engine, f"{mart.name}_stored", partials_path(gold_path, mart.name), spec.columns, days)
    measures = [name for name, _ in spec.columns if name not in spec.keys]
    summed = f"""SELECT {', '.join(spec.keys)}, {', '.join(f'sum({m}) AS {m}' for m in measures)}
                 FROM {stored} AS st GROUP BY {', '.join(spec.keys)}"""
    others = [inputs[t] for t in mart.inputs if t != spec.source]
    return spec.finish(f"({_typed(spec, summed)})", *others)


def build(engine: Engine, name: str, inputs: dict[str, str], silver_path: str,
          gold_path: str) -> tuple[str, dict[str, Any]]:
    """SQL of mart `name` and how it was computed: from refreshed partials when it has them, else in full."""
    mart = MARTS_BY_NAME[name]
    if mart.partials is None:
        return mart.build(*[inputs[t] for t in mart.inputs]), {"recompute": "full"}
    days, report = refresh_partials(engine, mart, silver_path, gold_path)
    return from_partials(engine, mart, days, gold_path, inputs), {"recompute": "incremental", **report}


def _partials_of(mart: Mart) -> Partials:
    if mart.partials is None:
        raise ValueError(f"mart {mart.name!r} has no partials; it is a full recompute")
    return mart.partials
