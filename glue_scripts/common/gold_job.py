"""gold_build's work on one mart, on the engine the job picked: refresh the partials, build, measure.

For a mart with partials, `<gold_path>/_partials/<mart>/ingestion_date=<D>/` holds the partial aggregate of silver
partition `<source>/ingestion_date=<D>/` and, in `_signature.json`, the signature of that partition (digest of its
data files' names, sizes and modification times, and of the partial's definition). Silver replaces a partition's
files whenever it writes it (a new day, a re-run, an older partition rewritten because it lost a key), so a changed
signature is exactly a partition whose partial is stale. A build recomputes the stale and missing partials in one
pass over only those silver partitions and drops partials whose silver partition is gone. Each partial is swapped
in whole with its signature, so a crash leaves every partial either matching its stored signature or absent, and
the next build recomputes whatever does not match. Everything is read by literal file lists (engine/io.py) and
written through `Engine.write`, the one write path.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pyarrow.fs as pafs

from glue_scripts.common import writer
from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.engine import Engine
from glue_scripts.engine.dialect import Columns
from glue_scripts.engine.io import PARTITION, FileEntry, file_paths, partition_files, register_table
from glue_scripts.transforms import gold_quality
from glue_scripts.transforms.gold import MARTS_BY_NAME, Mart, Partials, input_columns
from glue_scripts.transforms.gold_incremental import (
    dated_partials_sql, from_partials_sql, one_partial_sql, partials_of,
)

PARTIALS = "_partials"
SIGNATURE = "_signature.json"


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


def refresh_partials(engine: Engine, mart: Mart, silver_path: str, gold_path: str) -> tuple[list[str], dict[str, Any]]:
    """Match the stored partials to the source's silver partitions; return its days and what was recomputed."""
    spec = partials_of(mart)
    source_path, target = join(silver_path, spec.source), partials_path(gold_path, mart.name)
    listing = partition_files(source_path)
    current = {day: signature(spec, files) for day, files in listing.items()}
    stored = stored_signatures(target)
    stale = sorted(day for day, sig in current.items() if stored.get(day) != sig)
    gone = sorted(set(stored) - set(current))
    if stale:
        files = file_paths(source_path, listing, stale)
        rows = engine.register(f"{spec.source}_stale", source_path, files, input_columns(spec.source))
        partials = engine.materialize(f"{mart.name}_partials", dated_partials_sql(spec, rows))
        for day in stale:
            content = json.dumps({"signature": current[day], "silver_partition": f"{PARTITION}={day}"})
            engine.write(one_partial_sql(spec, partials, day), target, f"{PARTITION}={day}", spec.keys,
                         {SIGNATURE: content.encode("utf-8")})
    for day in gone:
        writer.remove(target, f"{PARTITION}={day}")
    report = {"partials_recomputed": stale, "partials_removed": gone, "partials_reused": len(current) - len(stale)}
    return sorted(current), report


def mart_sql(engine: Engine, name: str, inputs: dict[str, str], silver_path: str,
             gold_path: str) -> tuple[str, dict[str, Any]]:
    """SQL of mart `name` and how it was computed: from refreshed partials when it has them, else in full."""
    mart = MARTS_BY_NAME[name]
    if mart.partials is None:
        return mart.build(*[inputs[t] for t in mart.inputs]), {"recompute": "full"}
    days, report = refresh_partials(engine, mart, silver_path, gold_path)
    stored = register_table(engine, f"{mart.name}_stored", partials_path(gold_path, mart.name),
                            mart.partials.columns, days)
    return from_partials_sql(mart, stored, inputs), {"recompute": "incremental", **report}


def measure(engine: Engine, mart: Mart, written: str, inputs: dict[str, str],
            silver_days: dict[str, str | None]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The written mart's measure totals and its quality (grain, signs, totals reconciled with silver)."""
    columns: Columns = mart.columns
    totals = gold_quality.totals(engine.rows(gold_quality.totals_sql(written, columns, mart.grain))[0], columns,
                                 mart.grain)
    reference = gold_quality.reference([engine.rows(sql)[0] for sql in gold_quality.reference_sqls(inputs)])
    row = engine.rows(gold_quality.quality_sql(written, columns, mart.grain))[0]
    return totals, gold_quality.quality(mart, row, totals, reference, silver_days)
