"""Bronze on Spark: the record hash of raw source rows (all strings), the watermark window, and schemas as Spark
reports them. The bronze jobs themselves stamp and write rows in Python (glue_scripts/common/bronze_arrow.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

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


def schema_of(df: DataFrame) -> list[list[str]]:
    """The DataFrame's columns as [name, Spark type string] pairs."""
    return [[f.name, f.dataType.simpleString()] for f in df.schema.fields]
