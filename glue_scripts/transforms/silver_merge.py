"""Silver merge as canonical SQL: the from-scratch rule over the candidates of the keys a run settles again.

Silver is a function of bronze. Over the bronze rows of every merged ingestion day (one batch per day):
1. a row repeating an earlier row of its batch (same `_record_hash`) is an exact duplicate;
2. a row breaking a rule is rejected (quarantine partition of its batch);
3. of the remaining candidates, one with the key and `_record_hash` of a candidate of an earlier batch is an
   exact duplicate (a re-delivery never moves a row);
4. a candidate whose foreign key misses the referenced silver table is not valid. Per key, the valid candidate
   with the greatest (`_updated_at`, `_ingestion_date`, `_record_hash`) is current (silver partition of its
   batch); invalid candidates ranking above it (all of them when none is valid) are held (quarantine partition
   of their batch, rule `unknown_foreign_key`); every other candidate is superseded.
Builders take relation names and return SQL; nothing here reads or writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from glue_scripts.common.specs import SilverSpec
from glue_scripts.engine.dialect import literal
from glue_scripts.transforms.silver_standardize import CORRUPT, RAW, RULES_COL, VERSION, parse, raw_columns

STATUS = "_status"
BATCH = "_batch"
PARTITION = "_partition"
FK_OK = "_fk_ok"
COPY = "_copy"
CANDIDATE = "candidate"
RECONCILED: tuple[str, ...] = ("contributing", "exact_duplicates", "superseded", "quarantined")
BY_QUARANTINE_ROW: tuple[str, ...] = ("_record_hash", "_source_ref")  # one quarantine row of a partition


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


def batch_sql(spec: SilverSpec, standardized: str) -> str:
    """Standardized rows (with `_batch`) plus `_status`: duplicate (rule 1) | rejected (rule 2) | candidate."""
    raws = ", ".join(RAW + c for c in (*raw_columns(spec), CORRUPT))
    numbered = (f"SELECT *, row_number() OVER (PARTITION BY {BATCH}, _record_hash ORDER BY _source_ref, {raws}) "
                f"AS {COPY} FROM {standardized}")
    status = (f"CASE WHEN {COPY} > 1 THEN 'duplicate' WHEN array_length({RULES_COL}) > 0 THEN 'rejected' "
              f"ELSE {literal(CANDIDATE)} END")
    return f"SELECT *, {status} AS {STATUS} FROM ({numbered}) AS b"


def keyed_sql(spec: SilverSpec, conformed: str, keys: str) -> str:
    """Conformed (raw string) rows whose primary key, parsed as standardization parses it, is in `keys`."""
    by_name = {c.name: c for c in spec.columns}
    match = " AND ".join(f"k.{c} = {parse(by_name[c], f'c.{c}')}" for c in spec.primary_key)
    return f"SELECT c.* FROM {conformed} AS c WHERE EXISTS (SELECT 1 FROM {keys} AS k WHERE {match})"


def in_keys(spec: SilverSpec, alias: str, keys: str) -> str:
    """A predicate: the row `alias` has its primary key in relation `keys`."""
    match = " AND ".join(f"k.{c} = {alias}.{c}" for c in spec.primary_key)
    return f"EXISTS (SELECT 1 FROM {keys} AS k WHERE {match})"


def affected_keys_sql(spec: SilverSpec, sources: Iterable[str]) -> str:
    """The distinct non-null primary keys of the relations `sources` (each has the key columns)."""
    pk = ", ".join(spec.primary_key)
    union = " UNION ALL ".join(f"SELECT {pk} FROM {s}" for s in sources)
    present = " AND ".join(f"{c} IS NOT NULL" for c in spec.primary_key)
    return f"SELECT DISTINCT {pk} FROM ({union}) AS a WHERE {present}"


def orphaned_sql(spec: SilverSpec, silver: str, refs: Mapping[str, str]) -> str:
    """Primary keys of `silver` rows whose foreign key no longer resolves (a referenced key was withdrawn)."""
    resolved = with_foreign_keys(spec, silver, spec.primary_key, refs)
    return f"SELECT {', '.join(spec.primary_key)} FROM ({resolved}) AS r WHERE NOT {FK_OK}"


def settle_sql(spec: SilverSpec, candidates: str, columns: Sequence[str], refs: Mapping[str, str]) -> str:
    """`columns` of every candidate (with `_batch`) plus `_status` by rules 3 and 4: duplicate | current | held |
    superseded; `_rules` of a held candidate is `['unknown_foreign_key']`."""
    pk = ", ".join(spec.primary_key)
    listed = ", ".join(c for c in columns if c != RULES_COL)
    resolved = with_foreign_keys(spec, candidates, (*columns, BATCH), refs)
    first = (f"SELECT *, row_number() OVER (PARTITION BY {pk}, _record_hash ORDER BY {BATCH}) AS {COPY} "
             f"FROM ({resolved}) AS r")
    order = (f"{VERSION} DESC NULLS LAST, _ingestion_date DESC NULLS LAST, _record_hash DESC NULLS LAST, "
             f"{BATCH} DESC")
    ranked = f"SELECT *, row_number() OVER (PARTITION BY {pk}, {COPY} = 1 ORDER BY {order}) AS _pos FROM ({first}) AS f"
    top = (f"SELECT *, min(CASE WHEN {COPY} = 1 AND {FK_OK} THEN _pos END) OVER (PARTITION BY {pk}) AS _top "
           f"FROM ({ranked}) AS p")
    status = (f"CASE WHEN {COPY} > 1 THEN 'duplicate' WHEN {FK_OK} AND _pos = _top THEN 'current' "
              f"WHEN NOT {FK_OK} AND (_top IS NULL OR _pos < _top) THEN 'held' ELSE 'superseded' END")
    return (f"SELECT {listed}, {BATCH}, CASE WHEN s.{STATUS} = 'held' THEN ['unknown_foreign_key'] ELSE {RULES_COL} "
            f"END AS {RULES_COL}, s.{STATUS} FROM (SELECT *, {status} AS {STATUS} FROM ({top}) AS t) AS s")


def keep_run_ids_sql(new: str, columns: Sequence[str], existing: str, on: Sequence[str], run_id: str) -> str:
    """`columns` of `new` plus `_run_id`: the run that already wrote the same row (so reruns change nothing),
    else `run_id`."""
    previous = f"SELECT {', '.join(on)}, min(_run_id) AS prev_run FROM {existing} GROUP BY {', '.join(on)}"
    picked = ", ".join(f"n.{c}" for c in columns if c != "_run_id")
    return (f"SELECT {picked}, coalesce(p.prev_run, {literal(run_id)}) AS _run_id FROM {new} AS n "
            f"LEFT JOIN ({previous}) AS p ON {_on('n', 'p', on)}")


def quarantine_sql(spec: SilverSpec, rows: str) -> str:
    """Rejected and held rows of `rows` in the quarantine shape (no `_run_id` yet) with their `_batch`: raw values
    as delivered, `_rules`, `_status`, `_source_ref`, `_record_hash`; the day is the partition's."""
    raw = ", ".join(f"{RAW}{c} AS {c}" for c in (*raw_columns(spec), CORRUPT))
    return (f"SELECT {raw}, {RULES_COL}, {STATUS}, _source_ref, _record_hash, {BATCH} FROM {rows} "
            f"WHERE {STATUS} IN ('rejected', 'held')")


def plan_sql(spec: SilverSpec, batch: str, settled: str, existing: str, held: str, silver: str, day: str) -> str:
    """One query of everything the run counts before writing: batch D's statuses and rules, the rows each silver
    partition loses (`a`) and gains (`b`), the same for held rows per quarantine partition, released rows and the
    silver row total (so the Spark engine runs one job for it)."""
    pk = spec.primary_key
    none = "CAST(NULL AS VARCHAR)", "CAST(NULL AS VARCHAR[])", "CAST(NULL AS BIGINT)"

    def part(kind: str, status: str, rules: str, partition: str, removed: str, added: str, rest: str) -> str:
        return (f"SELECT {literal(kind)} AS k, {status} AS s, {rules} AS r, {partition} AS p, count(*) AS n, "
                f"{removed} AS a, {added} AS b {rest}")

    def changes(kind: str, old: str, old_day: str, new: str, on: tuple[str, ...]) -> str:
        joined = f"FROM {old} AS e FULL OUTER JOIN {new} AS c ON {_on('e', 'c', on)} AND e.{old_day} = c.{BATCH}"
        removed = "sum(CASE WHEN c._record_hash IS NULL THEN 1 ELSE 0 END)"
        added = "sum(CASE WHEN e._record_hash IS NULL THEN 1 ELSE 0 END)"
        where = f"coalesce(e.{old_day}, c.{BATCH})"
        return part(kind, none[0], none[1], where, removed, added, f"{joined} GROUP BY {where}")

    current = f"(SELECT * FROM {settled} WHERE {STATUS} = 'current')"
    new_held = f"(SELECT * FROM {settled} WHERE {STATUS} = 'held')"
    released = f"EXISTS (SELECT 1 FROM {held} AS h WHERE {_on('h', 'c', (*pk, '_record_hash'))})"
    return " UNION ALL ".join([
        part("batch", STATUS, RULES_COL, none[0], none[2], none[2], f"FROM {batch} GROUP BY {STATUS}, {RULES_COL}"),
        part("settled", STATUS, RULES_COL, none[0], none[2], none[2],
             f"FROM {settled} WHERE {BATCH} = {literal(day)} GROUP BY {STATUS}, {RULES_COL}"),
        changes("silver", existing, PARTITION, current, (*pk, "_record_hash")),
        changes("held", held, PARTITION, new_held, BY_QUARANTINE_ROW),
        part("released", none[0], none[1], none[0], none[2], none[2], f"FROM {current} AS c WHERE {released}"),
        part("total", none[0], none[1], none[0], none[2], none[2], f"FROM {silver}"),
    ])


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
