"""Silver merge transforms: batch classification, foreign-key holds and the one-current-row-per-key ranking."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from glue_scripts.common.specs import SilverSpec
from glue_scripts.transforms.silver_standardize import (
    CORRUPT, LINEAGE, RAW, RULES_COL, VERSION, raw_columns, silver_columns,
)

STATUS = "_status"
ORIGIN = "_origin"
PARTITION = "_partition"
WINNER = "_winner"
FK_OK = "_fk_ok"
# Where a ranked row comes from, in tie-break order: rows already in silver win exact ties.
ORIGINS: tuple[str, ...] = ("old", "keep", "batch", "released")
RECONCILED: tuple[str, ...] = ("contributing", "exact_duplicates", "superseded", "quarantined")


def resolve_foreign_keys(df: DataFrame, spec: SilverSpec, refs: Mapping[str, DataFrame | None]) -> DataFrame:
    """Add `_fk_ok`: every foreign key is null or present in its (current) referenced table; no table, no keys."""
    ok = F.lit(True)
    for i, fk in enumerate(spec.foreign_keys):
        flag = f"__fk{i}"
        null_fk = F.lit(False)
        for column in fk.columns:
            null_fk = null_fk | F.col(column).isNull()
        ref = refs.get(fk.table)
        if ref is None:
            df = df.withColumn(flag, F.lit(False))
        else:
            keys = ref.select(*[F.col(r).alias(c) for c, r in zip(fk.columns, fk.ref_columns)]).distinct()
            df = df.join(keys.withColumn(flag, F.lit(True)), list(fk.columns), "left")
        ok = ok & (null_fk | F.coalesce(F.col(flag), F.lit(False)))
    return df.withColumn(FK_OK, ok).drop(*[f"__fk{i}" for i in range(len(spec.foreign_keys))])


def classify(
    batch: DataFrame, spec: SilverSpec, other: DataFrame | None, refs: Mapping[str, DataFrame | None]
) -> DataFrame:
    """Add `_status` per batch row: duplicate | rejected | held | valid; held rows get rule unknown_foreign_key."""
    pk = list(spec.primary_key)
    first = Window.partitionBy("_record_hash").orderBy("_source_ref", F.col(RAW).cast("string"))
    df = batch.withColumn("__n", F.row_number().over(first))
    if other is not None:
        seen = other.select(*pk, "_record_hash").distinct().withColumn("__seen", F.lit(True))
        df = df.join(seen, [*pk, "_record_hash"], "left")
    else:
        df = df.withColumn("__seen", F.lit(None).cast("boolean"))
    df = resolve_foreign_keys(df, spec, refs)
    status = (
        F.when((F.col("__n") > 1) | F.col("__seen").isNotNull(), "duplicate")
        .when(F.size(RULES_COL) > 0, "rejected")
        .when(~F.col(FK_OK), "held")
        .otherwise("valid")
    )
    rules = F.when(status == "held", F.array(F.lit("unknown_foreign_key"))).otherwise(F.col(RULES_COL))
    return df.withColumn(STATUS, status).withColumn(RULES_COL, rules).drop("__n", "__seen", FK_OK)


def rank_versions(rows: DataFrame, spec: SilverSpec) -> DataFrame:
    """Add `_winner`: per primary key the greatest (_updated_at, _ingestion_date, _record_hash), then origin order."""
    origin_rank = F.create_map(*[F.lit(x) for i, o in enumerate(ORIGINS) for x in (o, i)])[F.col(ORIGIN)]
    order = [F.col(VERSION).desc_nulls_last(), F.col("_ingestion_date").desc_nulls_last(),
             F.col("_record_hash").desc_nulls_last(), origin_rank.asc(), F.col(PARTITION).desc_nulls_last()]
    window = Window.partitionBy(*spec.primary_key).orderBy(*order)
    return rows.withColumn(WINNER, F.row_number().over(window) == 1)


def keep_run_ids(new: DataFrame, existing: DataFrame | None, on: Sequence[str], run_id: str) -> DataFrame:
    """Stamp `_run_id`: the run that already wrote the same row (so reruns change nothing), else `run_id`."""
    if existing is None:
        return new.withColumn("_run_id", F.lit(run_id))
    previous = existing.select(*on, F.col("_run_id").alias("__prev_run")).dropDuplicates(list(on))
    joined = new.drop("_run_id").join(previous, list(on), "left")
    return joined.withColumn("_run_id", F.coalesce(F.col("__prev_run"), F.lit(run_id))).drop("__prev_run")


def merge_rows(
    spec: SilverSpec,
    day: str,
    valid: DataFrame,
    released: DataFrame | None,
    keep: DataFrame | None,
    other: DataFrame | None,
) -> DataFrame:
    """Rows to rank per key: the batch's valid rows, released rows (`_partition` = their quarantine partition),
    partition D's rows from other batches, and the key/version projection of the other partitions ("old")."""
    columns = list(silver_columns(spec))
    rows = valid.select(*columns, F.lit("batch").alias(ORIGIN), F.lit(day).alias(PARTITION))
    if released is not None:
        rows = rows.unionByName(released.select(*columns, F.lit("released").alias(ORIGIN), PARTITION))
    if keep is not None:
        rows = rows.unionByName(keep.select(*columns, F.lit("keep").alias(ORIGIN), F.lit(day).alias(PARTITION)))
    if other is not None:
        rows = rows.unionByName(other.withColumn(ORIGIN, F.lit("old")), allowMissingColumns=True)
    return rows


def quarantine_rows(batch: DataFrame, spec: SilverSpec) -> DataFrame:
    """Rejected and held batch rows in the quarantine shape: raw values as delivered, `_rules`, `_status`, lineage."""
    raw = [F.col(f"{RAW}.{c}").alias(c) for c in (*raw_columns(spec), CORRUPT)]
    bad = batch.where(F.col(STATUS).isin("rejected", "held"))
    return bad.select(*raw, RULES_COL, STATUS, *LINEAGE)


def rule_counts(rules: Iterable[tuple[Sequence[str], int]]) -> dict[str, int]:
    """{rule: rows failing it} from (`_rules`, row count) pairs; a row failing two rules counts under each."""
    counts: dict[str, int] = {}
    for row_rules, n in rules:
        for rule in row_rules:
            counts[rule] = counts.get(rule, 0) + n
    return dict(sorted(counts.items()))


def reconciliation(result: Mapping[str, Any]) -> dict[str, Any]:
    """bronze_rows against contributing + exact_duplicates + superseded + quarantined for one batch."""
    bronze_rows = int(result.get("bronze_rows") or 0)
    accounted = sum(int(result.get(k) or 0) for k in RECONCILED)
    return {"bronze_rows": bronze_rows, "accounted": accounted, "difference": bronze_rows - accounted,
            "reconciles": bronze_rows == accounted}
