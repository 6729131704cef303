"""The Python `_record_hash` is the one bronze partitions written by the former Spark jobs carry, value for value
(NULLs, unicode, optional drift columns), and the Arrow-built one is the row-by-row one."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from glue_scripts.common.bronze_arrow import column_hashes, record_hash
from glue_scripts.transforms.bronze import NULL_MARKER, SEPARATOR

COLUMNS = ("a", "b", "c")
OPTIONAL = ("p_extra", "_corrupt_record")


def spark_record_hash(columns: Sequence[str], optional: Sequence[str] = ()) -> Column:
    """The hash as the Spark bronze jobs computed it: sha2-256 over length-prefixed values joined by `|`, the
    optional (drift, corrupt-line) columns as name=value only when set. Older bronze partitions carry it."""
    def part(name: str) -> Column:
        value = F.col(name).cast("string")
        return F.when(value.isNull(), F.lit(NULL_MARKER)).otherwise(
            F.concat(F.length(value).cast("string"), F.lit(":"), value))

    parts = [part(c) for c in columns] + [
        F.when(F.col(c).cast("string").isNotNull(), F.concat(F.lit(f"{c}="), part(c))) for c in optional]
    return F.sha2(F.concat_ws(SEPARATOR, *parts), 256)


ROWS = [
    {"a": "1", "b": None, "c": "", "p_extra": None, "_corrupt_record": None},
    {"a": "Ünïcødé ✓", "b": "日本語", "c": "emoji 🎉 \\N |", "p_extra": "surplus", "_corrupt_record": None},
    {"a": None, "b": None, "c": None, "p_extra": None, "_corrupt_record": "1,2,3,4"},
    {"a": "2|3", "b": "3:x", "c": "\\N", "p_extra": "", "_corrupt_record": "x"},
]


def test_python_hash_equals_spark_hash(spark: SparkSession) -> None:
    schema = ", ".join(f"`{c}` string" for c in (*COLUMNS, *OPTIONAL))
    df = spark.createDataFrame([tuple(r[c] for c in (*COLUMNS, *OPTIONAL)) for r in ROWS], schema)
    spark_hashes = [r[0] for r in df.select(spark_record_hash(COLUMNS, OPTIONAL)).collect()]
    assert spark_hashes == [record_hash(r, COLUMNS, OPTIONAL) for r in ROWS]
    assert len(set(spark_hashes)) == len(ROWS)


def test_arrow_built_hashes_equal_the_row_by_row_ones() -> None:
    columns = [pa.array([r[c] for r in ROWS], pa.string()) for c in COLUMNS]
    assert column_hashes(columns) == [record_hash(r, COLUMNS) for r in ROWS]
    assert column_hashes([pa.array([], pa.string())]) == []
