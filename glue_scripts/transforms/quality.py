"""Data-quality measures of a whole silver table, computed in Spark for the blocking asset checks."""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.common.specs import SILVER_BY_NAME, SilverSpec


def read_table(spark: SparkSession, table_path: str) -> DataFrame | None:
    """The current rows of a Parquet table (all partitions), or None when it has no files yet."""
    fs, path = filesystem_for(table_path)
    import pyarrow.fs as pafs

    infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=True))
    if not any(i.is_file and i.base_name.endswith(".parquet") and "/_" not in i.path[len(path):] for i in infos):
        return None
    return spark.read.option("basePath", table_path).parquet(join(table_path, "ingestion_date=*"))


def table_quality(spark: SparkSession, spec: SilverSpec, silver_path: str) -> dict[str, Any]:
    """Null and duplicate keys, unresolved foreign keys, and out-of-range values over the current table."""
    df = read_table(spark, join(silver_path, spec.name))
    if df is None:
        return {"rows": 0, "null_keys": 0, "duplicate_keys": 0, "orphans": {}, "violations": {}}
    pk = list(spec.primary_key)
    null_any = F.lit(False)
    for column in pk:
        null_any = null_any | F.col(column).isNull()
    violations = {
        f"{column} in ({', '.join(values)})": ~F.col(column).isin(*values) for column, values in spec.accepted_values.items()
    }
    violations.update({f"{c.name} >= 0": F.col(c.name) < 0 for c in spec.columns if c.non_negative})
    aggregates = [F.count(F.lit(1)).alias("rows"), F.sum(null_any.cast("int")).alias("null_keys"),
                  F.countDistinct(*[F.col(c) for c in pk]).alias("distinct_keys")]
    aggregates += [F.sum(F.coalesce(cond, F.lit(False)).cast("int")).alias(f"v{i}") for i, cond in enumerate(violations.values())]
    row = df.agg(*aggregates).collect()[0]
    rows = int(row["rows"])
    non_null = rows - int(row["null_keys"] or 0)
    orphans = {}
    for fk in spec.foreign_keys:
        ref = read_table(spark, join(silver_path, fk.table))
        present = F.lit(True)
        for column in fk.columns:
            present = present & F.col(column).isNotNull()
        children = df.select(*fk.columns).where(present)
        if ref is None:
            orphans[f"{','.join(fk.columns)} -> {fk.table}"] = children.count()
            continue
        parents = ref.select(*[F.col(r).alias(c) for c, r in zip(fk.columns, fk.ref_columns)]).distinct()
        orphans[f"{','.join(fk.columns)} -> {fk.table}"] = children.join(parents, list(fk.columns), "left_anti").count()
    return {
        "rows": rows,
        "null_keys": int(row["null_keys"] or 0),
        "duplicate_keys": non_null - int(row["distinct_keys"] or 0),
        "orphans": orphans,
        "violations": {name: int(row[f"v{i}"] or 0) for i, name in enumerate(violations)},
    }


def quality_for(spark: SparkSession, table: str, silver_path: str) -> dict[str, Any]:
    """table_quality for a silver table by name."""
    return table_quality(spark, SILVER_BY_NAME[table], silver_path)
