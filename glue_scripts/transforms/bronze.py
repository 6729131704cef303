"""Bronze transforms: raw source rows (all strings) plus lineage metadata; one row per delivered record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from glue_scripts.common.records import CORRUPT, DEFECTS
from glue_scripts.common.specs import BRONZE_METADATA_COLUMNS

NULL_MARKER = "\\N"
SEPARATOR = "|"


def window(ingestion_date: str) -> tuple[str, str]:
    """The watermark window of a partition: ('D 00:00:00', 'D+1 00:00:00'), start inclusive."""
    day = date.fromisoformat(ingestion_date)
    return f"{day} 00:00:00", f"{day + timedelta(days=1)} 00:00:00"


def _hash_part(name: str) -> Column:
    """One value, length-prefixed so no value can imitate a separator or the null marker."""
    value = F.col(name).cast("string")
    return F.when(value.isNull(), F.lit(NULL_MARKER)).otherwise(F.concat(F.length(value).cast("string"), F.lit(":"), value))


def _optional_part(name: str) -> Column:
    """A column that only some deliveries carry: hashed as name=value when present, else nothing."""
    value = F.col(name).cast("string")
    return F.when(value.isNotNull(), F.concat(F.lit(f"{name}="), _hash_part(name)))


def record_hash(columns: Sequence[str], optional: Sequence[str] = ()) -> Column:
    """sha2-256 over the source columns in order; drift and corrupt-line columns count only when set."""
    parts = [_hash_part(c) for c in columns] + [_optional_part(c) for c in optional]
    return F.sha2(F.concat_ws(SEPARATOR, *parts), 256)


def conform(df: DataFrame, columns: Sequence[str], keep: Sequence[str] = ()) -> DataFrame:
    """Spec columns (null strings where missing), extra source columns by name, `_corrupt_record`, `_defects`,
    then `keep`.

    Columns named with a leading underscore are internal, never extra source columns.
    """
    present = set(df.columns)
    extras = sorted(c for c in df.columns if c not in columns and not c.startswith("_"))
    cols = [F.col(c) if c in present else F.lit(None).cast("string").alias(c) for c in columns]
    cols += [F.col(c) for c in (*extras, CORRUPT, DEFECTS) if c in present]
    return df.select(*cols, *keep)


def with_metadata(
    df: DataFrame,
    columns: Sequence[str],
    *,
    ingestion_date: str,
    source_system: str,
    source_ref: Column,
    run_id: str,
) -> DataFrame:
    """Conform `df` to the spec columns and append the bronze metadata columns, in BRONZE_METADATA_COLUMNS order."""
    shaped = conform(df.withColumn("_source_ref", source_ref.cast("string")), columns, keep=("_source_ref",))
    optional = [c for c in shaped.columns if c not in columns and c not in ("_source_ref", DEFECTS)]
    values = {
        "_ingestion_date": F.lit(ingestion_date),
        "_ingested_at": F.current_timestamp(),
        "_source_system": F.lit(source_system),
        "_source_ref": F.col("_source_ref"),
        "_run_id": F.lit(run_id),
        "_record_hash": record_hash(columns, optional),
    }
    data = [c for c in shaped.columns if c != "_source_ref"]
    return shaped.select(*data, *[values[c].alias(c) for c in BRONZE_METADATA_COLUMNS])


def schema_of(df: DataFrame) -> list[list[str]]:
    """The DataFrame's columns as [name, Spark type string] pairs."""
    return [[f.name, f.dataType.simpleString()] for f in df.schema.fields]
