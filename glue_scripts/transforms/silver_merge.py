"""Silver merge as canonical SQL: batch classification, foreign-key holds, `_run_id` reuse and the per-key ranking.

Builders take relation names (and the columns those relations have) and return SQL; nothing here reads or writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from glue_scripts.common.specs import SilverSpec
from glue_scripts.engine.dialect import literal, sql_type
from glue_scripts.transforms.silver_standardize import (
    CORRUPT, RAW, RULES_COL, VERSION, raw_columns, silver_columns, silver_types, standardized_columns,
)

STATUS = "_status"
ORIGIN = "_origin"
PARTITION = "_partition"
WINNER = "_winner"
FK_OK = "_fk_ok"
# Where a ranked row comes from, in tie-break order: rows already in silver win exact ties.
ORIGINS: tuple[str, ...] = ("old", "keep", "batch", "released")
RECONCILED: tuple[str, ...] = ("contributing", "exact_duplicates", "superseded", "quarantined")


def _on(left: str, right: str, columns: Sequence[str], right_columns: Sequence[str] | None = None) -> str:
    return " AND ".join(f"{left}.{c} = {right}.{r}" for c, r in zip(columns, right_columns or columns))


def with_foreign_keys(spec: SilverSpec, source: str, columns: Sequence[str], refs: Mapping[str, str]) -> str:
    """`columns` of `source` plus `_fk_ok`: every foreign key is null or present in its (current) referenced
    relation in `refs` (by table name; an empty relation resolves nothing)."""
    joins, ok = [], []
    for i, fk in enumerate(spec.foreign_keys):
        keys = ", ".join(f"{r} AS {c}" for c, r in zip(fk.columns, fk.ref_columns))
        joins.append(f"LEFT JOIN (SELECT DISTINCT {keys}, true AS hit FROM {refs[fk.table]}) AS k{i} "
                     f"ON {_on('s', f'k{i}', fk.columns)}")
        ok.append("(" + " OR ".join([*(f"s.{c} IS NULL" for c in fk.columns), f"coalesce(k{i}.hit, false)"]) + ")")
    picked = ", ".join(f"s.{c}" for c in columns)
    return f"SELECT {picked}, {' AND '.join(ok) or 'true'} AS {FK_OK} FROM {source} AS s {' '.join(joins)}"


def classify_sql(spec: SilverSpec, standardized: str, other: str, refs: Mapping[str, str]) -> str:
    """Standardized batch rows with `_status`: duplicate (an earlier row of the batch, or a row of another silver
    partition, has its `_record_hash`) | rejected | held (rule unknown_foreign_key) | valid."""
    columns = standardized_columns(spec)
    pk = list(spec.primary_key)
    raws = ", ".join(RAW + c for c in (*raw_columns(spec), CORRUPT))
    numbered = (f"SELECT *, row_number() OVER (PARTITION BY _record_hash ORDER BY _source_ref, {raws}) AS n "
                f"FROM {standardized}")
    seen = f"SELECT DISTINCT {', '.join([*pk, '_record_hash'])}, true AS seen FROM {other}"
    flagged = (f"SELECT b.*, d.seen FROM ({numbered}) AS b LEFT JOIN ({seen}) AS d "
               f"ON {_on('b', 'd', [*pk, '_record_hash'])}")
    resolved = with_foreign_keys(spec, f"({flagged})", (*columns, "n", "seen"), refs)
    status = (f"CASE WHEN n > 1 OR seen IS NOT NULL THEN 'duplicate' WHEN array_length({RULES_COL}) > 0 "
              f"THEN 'rejected' WHEN NOT {FK_OK} THEN 'held' ELSE 'valid' END")
    rules = f"CASE WHEN ({status}) = 'held' THEN ['unknown_foreign_key'] ELSE {RULES_COL} END"
    kept = ", ".join(c for c in columns if c != RULES_COL)
    return f"SELECT {kept}, {rules} AS {RULES_COL}, {status} AS {STATUS} FROM ({resolved}) AS r"


def released_sql(spec: SilverSpec, standardized: str, refs: Mapping[str, str]) -> str:
    """Standardized held rows (with `_partition`) that break no rule and whose foreign keys now resolve."""
    resolved = with_foreign_keys(spec, standardized, (*standardized_columns(spec), PARTITION), refs)
    return f"SELECT * FROM ({resolved}) AS r WHERE {FK_OK} AND array_length({RULES_COL}) = 0"


def keep_run_ids_sql(new: str, columns: Sequence[str], existing: str, on: Sequence[str], run_id: str) -> str:
    """`columns` of `new` plus `_run_id`: the run that already wrote the same row (so reruns change nothing),
    else `run_id`."""
    previous = f"SELECT {', '.join(on)}, min(_run_id) AS prev_run FROM {existing} GROUP BY {', '.join(on)}"
    picked = ", ".join(f"n.{c}" for c in columns if c != "_run_id")
    return (f"SELECT {picked}, coalesce(p.prev_run, {literal(run_id)}) AS _run_id FROM {new} AS n "
            f"LEFT JOIN ({previous}) AS p ON {_on('n', 'p', on)}")


def merge_rows_sql(spec: SilverSpec, day: str, valid: str, released: str, keep: str, other: str) -> str:
    """Rows to rank per key: the batch's valid rows, released rows (`_partition` = their quarantine partition),
    partition D's rows from other batches, and the key/version projection of the other partitions ("old")."""
    columns = silver_columns(spec)
    listed = ", ".join(columns)
    projected = {*spec.primary_key, VERSION, "_ingestion_date", "_record_hash"}
    types = dict(silver_types(spec))
    old = ", ".join(c if c in projected else f"CAST(NULL AS {sql_type(types[c])}) AS {c}" for c in columns)
    return " UNION ALL ".join([
        f"SELECT {listed}, 'batch' AS {ORIGIN}, {literal(day)} AS {PARTITION} FROM {valid}",
        f"SELECT {listed}, 'released' AS {ORIGIN}, {PARTITION} FROM {released}",
        f"SELECT {listed}, 'keep' AS {ORIGIN}, {literal(day)} AS {PARTITION} FROM {keep}",
        f"SELECT {old}, 'old' AS {ORIGIN}, {PARTITION} FROM {other}",
    ])


def rank_sql(spec: SilverSpec, rows: str) -> str:
    """`rows` plus `_winner`: per primary key the greatest (_updated_at, _ingestion_date, _record_hash), then
    origin order, then the greatest partition."""
    origin_rank = "CASE " + " ".join(f"WHEN {ORIGIN} = {literal(o)} THEN {i}" for i, o in enumerate(ORIGINS)) + " END"
    order = (f"{VERSION} DESC NULLS LAST, _ingestion_date DESC NULLS LAST, _record_hash DESC NULLS LAST, "
             f"{origin_rank}, {PARTITION} DESC NULLS LAST")
    return (f"SELECT *, row_number() OVER (PARTITION BY {', '.join(spec.primary_key)} ORDER BY {order}) = 1 "
            f"AS {WINNER} FROM {rows}")


def quarantine_sql(spec: SilverSpec, batch: str) -> str:
    """Rejected and held batch rows in the quarantine shape (no `_run_id` yet): raw values as delivered, `_rules`,
    `_status`, `_source_ref`, `_record_hash`; the day is the partition's."""
    raw = ", ".join(f"{RAW}{c} AS {c}" for c in (*raw_columns(spec), CORRUPT))
    return (f"SELECT {raw}, {RULES_COL}, {STATUS}, _source_ref, _record_hash FROM {batch} "
            f"WHERE {STATUS} IN ('rejected', 'held')")


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
