"""Bronze rows built without an engine: raw-string records + ingestion metadata as one Arrow table, and its write.

`record_hash` is the same function of the values as the Spark `glue_scripts.transforms.bronze.record_hash`
(a test holds the two equal), so a partition written here deduplicates against one written by Spark.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from glue_scripts.common import spark_io, writer
from glue_scripts.common.fs import join
from glue_scripts.common.records import CORRUPT
from glue_scripts.common.specs import BRONZE_METADATA_COLUMNS
from glue_scripts.transforms.bronze import NULL_MARKER, SEPARATOR

BOOLEAN_COLUMNS = frozenset({"_parse_error"})
SPARK_TYPES = {pa.string(): "string", pa.bool_(): "boolean", pa.timestamp("us", tz="UTC"): "timestamp"}


def _text(value: Any) -> str | None:
    """A value as Spark's cast to string renders it (booleans as true/false)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _part(value: str | None) -> str:
    return NULL_MARKER if value is None else f"{len(value)}:{value}"


def record_hash(row: Mapping[str, Any], columns: Sequence[str], optional: Sequence[str] = ()) -> str:
    """sha2-256 over the source columns in order; optional (drift, corrupt-line) columns as name=value when set."""
    parts = [_part(_text(row.get(c))) for c in columns]
    parts += [f"{c}={_part(v)}" for c in optional if (v := _text(row.get(c))) is not None]
    return hashlib.sha256(SEPARATOR.join(parts).encode("utf-8")).hexdigest()


def bronze_table(
    rows: Sequence[Mapping[str, Any]],
    refs: Sequence[str],
    columns: Sequence[str],
    internal: Sequence[str],
    *,
    ingestion_date: str,
    source_system: str,
    run_id: str,
) -> pa.Table:
    """Spec columns, extra source columns (sorted), `internal` columns present in the rows, then the metadata.

    `refs[i]` is where row i came from (`_source_ref`); extras and `_corrupt_record` count in the hash when set.
    """
    seen = {k for r in rows for k in r}
    extras = sorted(k for k in seen if k not in columns and not k.startswith("_"))
    hashed = [*extras, *([CORRUPT] if CORRUPT in internal else [])]
    data = [*columns, *extras, *internal]
    now = datetime.now(timezone.utc)
    arrays: dict[str, pa.Array] = {
        c: pa.array([r.get(c) for r in rows], pa.bool_() if c in BOOLEAN_COLUMNS else pa.string()) for c in data
    }
    metadata: dict[str, pa.Array] = {
        "_ingestion_date": pa.array([ingestion_date] * len(rows), pa.string()),
        "_ingested_at": pa.array([now] * len(rows), pa.timestamp("us", tz="UTC")),
        "_source_system": pa.array([source_system] * len(rows), pa.string()),
        "_source_ref": pa.array(list(refs), pa.string()),
        "_run_id": pa.array([run_id] * len(rows), pa.string()),
        "_record_hash": pa.array([record_hash(r, columns, hashed) for r in rows], pa.string()),
    }
    return pa.table({**arrays, **{c: metadata[c] for c in BRONZE_METADATA_COLUMNS}})


def schema_of(table: pa.Table) -> list[list[str]]:
    """The table's columns as [name, Spark type string] pairs, as Spark reports them after reading it back."""
    return [[f.name, SPARK_TYPES.get(f.type, str(f.type))] for f in table.schema]


def write(table: pa.Table, bronze_path: str, table_name: str, partition: str) -> dict[str, Any]:
    """Replace the partition with `table` through the one write path; rows/bytes/files read back from the footers."""
    final = writer.write_arrow(table, join(bronze_path, table_name), partition)
    return {**spark_io.parquet_stats(final), "path": final}


def flatten(groups: Iterable[tuple[str, Sequence[Mapping[str, Any]]]]) -> tuple[list[Mapping[str, Any]], list[str]]:
    """Rows of several sources in order, with each row's source reference beside it."""
    rows: list[Mapping[str, Any]] = []
    refs: list[str] = []
    for ref, group in groups:
        rows.extend(group)
        refs.extend([ref] * len(group))
    return rows, refs
