"""The Python `_record_hash` is the Spark one, value for value (NULLs, unicode, optional drift columns)."""

from __future__ import annotations

from pyspark.sql import SparkSession

from glue_scripts.common.bronze_arrow import record_hash
from glue_scripts.transforms.bronze import record_hash as spark_record_hash

COLUMNS = ("a", "b", "c")
OPTIONAL = ("p_extra", "_corrupt_record")
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
