"""Bronze rows built without an engine: raw-string records + ingestion metadata as Arrow (one table, or record
batches streamed into the partition's one file), and their write.

`record_hash` is the same function of the values as the former Spark bronze jobs computed (a test holds it to
that Spark expression), so a partition written here deduplicates against one those jobs wrote.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from glue_scripts.common import writer
from glue_scripts.common.fs import join
from glue_scripts.common.records import CORRUPT
from glue_scripts.common.specs import BRONZE_METADATA_COLUMNS
from glue_scripts.transforms.bronze import NULL_MARKER, SEPARATOR

BOOLEAN_COLUMNS = frozenset({"_parse_error"})
SPARK_TYPES = {pa.string(): "string", pa.bool_(): "boolean", pa.timestamp("us", tz="UTC"): "timestamp"}
METADATA_TYPES = {"_ingested_at": pa.timestamp("us", tz="UTC")}


def _text(value: Any) -> str | None:
    """A value as Spark's cast to string renders it (booleans as true/false)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _part(value: str | None) -> str:
    return NULL_MARKER if value is None else f"{len(value)}:{value}"


def values_hash(values: Sequence[str | None], optional: Sequence[tuple[str, str]] = ()) -> str:
    """sha2-256 over text values in order, then the set optional columns as (name, value)."""
    parts = [_part(v) for v in values] + [f"{c}={_part(v)}" for c, v in optional]
    return hashlib.sha256(SEPARATOR.join(parts).encode("utf-8")).hexdigest()


def column_hashes(columns: Sequence[pa.Array]) -> list[str]:
    """`values_hash` of every row of string columns (no optional columns), the parts built by Arrow."""
    if not columns or not len(columns[0]):
        return []
    parts = [pc.if_else(pc.is_null(c), NULL_MARKER, pc.binary_join_element_wise(
        pc.cast(pc.utf8_length(c), pa.string()), c, ":")) for c in columns]
    joined = pc.binary_join_element_wise(*parts, SEPARATOR)
    return [hashlib.sha256(text.encode("utf-8")).hexdigest() for text in joined.to_pylist()]


def record_hash(row: Mapping[str, Any], columns: Sequence[str], optional: Sequence[str] = ()) -> str:
    """sha2-256 over the source columns in order; optional (drift, corrupt-line) columns as name=value when set."""
    present = [(c, v) for c in optional if (v := _text(row.get(c))) is not None]
    return values_hash([_text(row.get(c)) for c in columns], present)


@dataclass(frozen=True)
class Stamp:
    """The ingestion metadata one partition write gives every row: which day, source and run, and when."""

    ingestion_date: str
    source_system: str
    run_id: str
    ingested_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def schema(self, data: Sequence[str]) -> pa.Schema:
        """Data columns (strings; `_parse_error` boolean) followed by the metadata columns."""
        fields = [pa.field(c, pa.bool_() if c in BOOLEAN_COLUMNS else pa.string()) for c in data]
        return pa.schema([*fields, *[pa.field(c, METADATA_TYPES.get(c, pa.string())) for c in BRONZE_METADATA_COLUMNS]])

    def batch(self, schema: pa.Schema, data: Sequence[Sequence[Any] | pa.Array], refs: Sequence[str],
              hashes: Sequence[str] | pa.Array) -> pa.RecordBatch:
        """One record batch of `schema` from column-wise data (values or Arrow arrays), each row's source ref and
        record hash."""
        n = len(refs)
        metadata = {"_ingestion_date": [self.ingestion_date] * n, "_ingested_at": [self.ingested_at] * n,
                    "_source_system": [self.source_system] * n, "_source_ref": refs, "_run_id": [self.run_id] * n,
                    "_record_hash": hashes}
        values = [*data, *[metadata[c] for c in BRONZE_METADATA_COLUMNS]]
        arrays = [v if isinstance(v, pa.Array) else pa.array(v, f.type) for v, f in zip(values, schema)]
        return pa.RecordBatch.from_arrays(arrays, schema=schema)


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
    stamp = Stamp(ingestion_date, source_system, run_id)
    schema = stamp.schema(data)
    batch = stamp.batch(schema, [[r.get(c) for r in rows] for c in data], refs,
                        [record_hash(r, columns, hashed) for r in rows])
    return pa.Table.from_batches([batch], schema)


def schema_of(table: pa.Table | pa.Schema) -> list[list[str]]:
    """The columns as [name, Spark type string] pairs, as Spark reports them after reading the table back."""
    schema = table if isinstance(table, pa.Schema) else table.schema
    return [[f.name, SPARK_TYPES.get(f.type, str(f.type))] for f in schema]


def write(table: pa.Table, bronze_path: str, table_name: str, partition: str) -> dict[str, Any]:
    """Replace the partition with `table` through the one write path; rows/bytes/files read back from the footers."""
    return write_stream(table.schema, [table], bronze_path, table_name, partition)


def write_stream(schema: pa.Schema, parts: Iterable[pa.RecordBatch | pa.Table], bronze_path: str, table_name: str,
                 partition: str) -> dict[str, Any]:
    """Replace the partition with `parts` as they come (one file, never all in memory); stats as `write`."""
    final = writer.write_batches(schema, parts, join(bronze_path, table_name), partition)
    return {**writer.parquet_stats(final), "path": final}


def flatten(groups: Iterable[tuple[str, Sequence[Mapping[str, Any]]]]) -> tuple[list[Mapping[str, Any]], list[str]]:
    """Rows of several sources in order, with each row's source reference beside it."""
    rows: list[Mapping[str, Any]] = []
    refs: list[str] = []
    for ref, group in groups:
        rows.extend(group)
        refs.extend([ref] * len(group))
    return rows, refs
