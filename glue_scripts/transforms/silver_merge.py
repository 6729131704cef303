"""Silver merge transforms: the per-key settlement of bronze rows (the rule silver and quarantine follow), the keys a
run must settle again, foreign-key resolution, run-id keeping and the per-batch counts.

The rule (`settle`), over a set of standardized bronze rows that holds every bronze row of each key it holds:
1. a row repeating an earlier row of the same batch (same `_record_hash`; first by `_source_ref`, raw values) is an
   exact duplicate;
2. a row breaking a rule is rejected (quarantine of its batch);
3. of the rest (candidates), a row repeating the same key and `_record_hash` from an earlier batch is an exact
   duplicate: a re-delivery never moves a row;
4. a candidate whose foreign keys miss the referenced silver tables is not valid; per key the valid candidate with
   the greatest (`_updated_at`, `_ingestion_date`, `_record_hash`) is current (silver partition of its batch);
   invalid candidates ranking above it (all of them when no candidate is valid) are held (quarantine of their
   batch, rule unknown_foreign_key): they would be current once their reference arrives; all others are superseded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import reduce
from typing import Any

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from glue_scripts.common.specs import SilverSpec
from glue_scripts.transforms.silver_standardize import CORRUPT, RAW, RULES_COL, VERSION, raw_columns

STATUS = "_status"
PARTITION = "_partition"
FK_OK = "_fk_ok"
STATUSES: tuple[str, ...] = ("duplicate", "rejected", "held", "current", "superseded")
QUARANTINE_LINEAGE: tuple[str, ...] = ("_source_ref", "_record_hash")
RECONCILED: tuple[str, ...] = ("contributing", "exact_duplicates", "superseded", "quarantined")


def fk_columns(spec: SilverSpec) -> list[str]:
    """The table's foreign-key columns, each once, in declaration order."""
    return list(dict.fromkeys(c for fk in spec.foreign_keys for c in fk.columns))


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


def settle(rows: DataFrame, spec: SilverSpec, refs: Mapping[str, DataFrame | None]) -> DataFrame:
    """Add `_status` (duplicate | rejected | held | current | superseded) to every row; held rows get the rule
    unknown_foreign_key. `rows` are standardized bronze rows holding all bronze rows of each of their keys."""
    pk = list(spec.primary_key)
    in_batch = Window.partitionBy("_ingestion_date", "_record_hash").orderBy("_source_ref", F.col(RAW).cast("string"))
    numbered = rows.withColumn("__n", F.row_number().over(in_batch))
    first = numbered.where(F.col("__n") == 1)
    fixed = numbered.withColumn(STATUS, F.when(F.col("__n") > 1, "duplicate").otherwise("rejected")).where(
        (F.col("__n") > 1) | (F.size(RULES_COL) > 0)).drop("__n")
    candidates = first.where(F.size(RULES_COL) == 0).drop("__n")
    earliest = Window.partitionBy(*pk, "_record_hash").orderBy("_ingestion_date", "_source_ref")
    candidates = candidates.withColumn("__m", F.row_number().over(earliest))
    repeats = candidates.where(F.col("__m") > 1).withColumn(STATUS, F.lit("duplicate")).drop("__m")
    checked = resolve_foreign_keys(candidates.where(F.col("__m") == 1).drop("__m"), spec, refs)
    order = [F.col(VERSION).desc_nulls_last(), F.col("_ingestion_date").desc_nulls_last(),
             F.col("_record_hash").desc_nulls_last()]
    ranked = checked.withColumn("__r", F.row_number().over(Window.partitionBy(*pk).orderBy(*order)))
    ranked = ranked.withColumn("__w", F.min(F.when(F.col(FK_OK), F.col("__r"))).over(Window.partitionBy(*pk)))
    status = (F.when(F.col(FK_OK) & (F.col("__r") == F.col("__w")), "current")
              .when(~F.col(FK_OK) & (F.col("__w").isNull() | (F.col("__r") < F.col("__w"))), "held")
              .otherwise("superseded"))
    ranked = ranked.withColumn(STATUS, status).drop("__r", "__w", FK_OK)
    ranked = ranked.withColumn(RULES_COL, F.when(F.col(STATUS) == "held", F.array(F.lit("unknown_foreign_key")))
                               .otherwise(F.col(RULES_COL)))
    return fixed.unionByName(repeats).unionByName(ranked)


def affected_keys(
    spec: SilverSpec,
    day: str,
    batch: DataFrame,
    silver: DataFrame | None,
    held: DataFrame | None,
    refs: Mapping[str, DataFrame | None],
    pending: DataFrame | None = None,
) -> DataFrame:
    """The distinct keys a run of batch `day` settles again: the batch's candidates, the keys whose silver or held
    rows came from batch `day`, held keys whose references now resolve, silver keys whose references no longer do,
    keys repeated in silver, and the `pending` keys of an interrupted run. `silver`/`held` carry `_partition`."""
    pk = list(spec.primary_key)
    parts = [batch.where(F.size(RULES_COL) == 0).select(*pk)]
    if pending is not None:
        parts.append(pending.select(*pk))
    if silver is not None:
        parts.append(silver.where(F.col(PARTITION) == day).select(*pk))
        parts.append(silver.groupBy(*pk).count().where(F.col("count") > 1).select(*pk))
        if spec.foreign_keys:
            projected = silver.select(*dict.fromkeys([*pk, *fk_columns(spec)]))
            parts.append(resolve_foreign_keys(projected, spec, refs).where(~F.col(FK_OK)).select(*pk))
    if held is not None:
        parts.append(held.where(F.col(PARTITION) == day).select(*pk))
        parts.append(resolve_foreign_keys(held, spec, refs).where(F.col(FK_OK)).select(*pk))
    return reduce(DataFrame.unionByName, parts).where(_not_null(pk)).distinct()


def _not_null(columns: Sequence[str]) -> Any:
    return reduce(lambda a, b: a & b, [F.col(c).isNotNull() for c in columns])


def keep_run_ids(new: DataFrame, existing: DataFrame | None, on: Sequence[str], run_id: str) -> DataFrame:
    """Stamp `_run_id`: the run that already wrote the same row (so reruns change nothing), else `run_id`."""
    if existing is None:
        return new.withColumn("_run_id", F.lit(run_id))
    previous = existing.select(*on, F.col("_run_id").alias("__prev_run")).dropDuplicates(list(on))
    joined = new.drop("_run_id").join(previous, list(on), "left")
    return joined.withColumn("_run_id", F.coalesce(F.col("__prev_run"), F.lit(run_id))).drop("__prev_run")


def quarantine_columns(spec: SilverSpec) -> tuple[str, ...]:
    """Quarantine file columns: raw values as delivered, `_rules`, `_status`, lineage, `_run_id`; the batch's
    ingestion date is the partition column `ingestion_date` only."""
    return (*raw_columns(spec), CORRUPT, RULES_COL, STATUS, *QUARANTINE_LINEAGE, "_run_id")


def quarantine_rows(settled: DataFrame, spec: SilverSpec) -> DataFrame:
    """Rejected and held rows in the quarantine shape (without `_run_id`), plus `_ingestion_date` to partition by."""
    raw = [F.col(f"{RAW}.{c}").alias(c) for c in (*raw_columns(spec), CORRUPT)]
    bad = settled.where(F.col(STATUS).isin("rejected", "held"))
    return bad.select(*raw, RULES_COL, STATUS, *QUARANTINE_LINEAGE, "_ingestion_date")


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
