"""silver_build's work on one table and day, on the engine the job picked: read, settle, write, count.

Relations that later writes would replace (the batch, the affected keys, the settled candidates, the existing
rows of those keys) are materialized before the first write; each write replaces one partition through
`Engine.write` (the one write path), reading only files it does not replace or has computed before the swap.
The affected keys are recorded in `<silver table>/_pending` before a run rewrites more than partition D and
dropped after its last write, so the next run of any day settles the keys an interrupted run left half-written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow.fs as pafs

from glue_scripts.common import writer
from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.common.reports import Reconciliation, SilverDay, SilverQuality, as_schema
from glue_scripts.common.specs import SILVER_BY_NAME, WEB_EVENTS, SilverSpec
from glue_scripts.engine import Engine
from glue_scripts.engine.dialect import Columns, literal, typed_select
from glue_scripts.engine.io import folder_files, partition_files, register_present, register_table
from glue_scripts.transforms import silver_quality
from glue_scripts.transforms import silver_web as web
from glue_scripts.transforms.silver_merge import (
    BATCH, BY_QUARANTINE_ROW, CANDIDATE, PARTITION, STATUS, affected_keys_sql, batch_sql, in_keys, keep_run_ids_sql,
    keyed_sql, orphaned_sql, plan_sql, quarantine_sql, reconciliation, rule_counts, settle_sql,
)
from glue_scripts.transforms.silver_standardize import (
    CORRUPT, LINEAGE, RULES_COL, bronze_inputs, conform_sql, quarantine_types, raw_columns, silver_columns,
    silver_types, standardize_sql, standardized_columns,
)

PENDING = "_pending"
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class SilverArgs:
    """One silver_build run: which table and batch, where bronze, silver and quarantine live, which run."""

    table: str
    day: str
    bronze_path: str
    silver_path: str
    quarantine_path: str
    run_id: str
    quality: bool = True

    @property
    def partition(self) -> str:
        """The partition folder name, `ingestion_date=D`."""
        return f"ingestion_date={self.day}"

    def path(self, layer: str, table: str | None = None) -> str:
        """Table folder of `table` (default: this job's table) in the silver or quarantine layer."""
        root = self.silver_path if layer == "silver" else self.quarantine_path
        return join(root, table or self.table)


def _write(engine: Engine, sql: str, columns: Columns, table_path: str, day: str, order_by: tuple[str, ...]) -> dict[str, Any]:
    return engine.write(typed_select(columns, f"({sql}) AS w"), table_path, f"ingestion_date={day}", order_by)


def _bronze(engine: Engine, job: SilverArgs, bronze: str, wanted: dict[str, str]) -> tuple[str, set[str]]:
    """Bronze partition D alone (its own columns: drift and `_corrupt_record` vary by day)."""
    path = join(job.bronze_path, bronze, job.partition)
    fs, local = filesystem_for(path)
    if fs.get_file_info(local).type == pafs.FileType.NotFound:
        raise FileNotFoundError(f"bronze partition {path} does not exist; run the bronze job for {job.day} first")
    return register_present(engine, "bronze", join(job.bronze_path, bronze), job.day, wanted)


def _refs(engine: Engine, spec: SilverSpec, silver_path: str, prefix: str) -> dict[str, str]:
    """The current silver tables the foreign keys of `spec` reference, each as a relation of its key columns."""
    refs = {}
    for fk in spec.foreign_keys:
        types = dict(silver_types(SILVER_BY_NAME[fk.table]))
        refs[fk.table] = register_table(engine, f"{prefix}_{fk.table}", join(silver_path, fk.table),
                                        tuple((c, types[c]) for c in fk.ref_columns))
    return refs


def _standardized(engine: Engine, spec: SilverSpec, job: SilverArgs, days: list[str], keys: str | None) -> str:
    """Bronze partitions `days` standardized (each conformed on its own columns: drift and `_corrupt_record`
    vary by day), with `_batch`; only the rows whose key is in `keys` when given (filtered before parsing)."""
    wanted = {c: "string" for c in bronze_inputs(spec)}
    conformed = []
    for i, day in enumerate(days):
        if keys is None:
            bronze, present = _bronze(engine, job, spec.bronze, wanted)
        else:
            bronze, present = register_present(engine, f"history_{i}", join(job.bronze_path, spec.bronze), day, wanted)
        conformed.append(conform_sql(spec, bronze, present, (f"{literal(day)} AS {BATCH}",)))
    rows = engine.view(f"conformed_{'batch' if keys is None else 'history'}", " UNION ALL ".join(conformed))
    if keys is not None:
        rows = engine.view("history_keyed", keyed_sql(spec, rows, keys))
    return f"({standardize_sql(spec, rows, (BATCH,))})"


def _merged_days(silver_table: str, quarantine_table: str, day: str) -> list[str]:
    """The ingestion days merged before this run other than `day`: those with a silver or quarantine partition."""
    listed = {*partition_files(silver_table), *partition_files(quarantine_table)}
    return sorted(d for d in listed if ISO_DAY.fullmatch(d) and d != day)


def _held(engine: Engine, spec: SilverSpec, quarantine: str) -> str:
    """Held quarantine rows standardized (their typed key), with `_partition`, `_record_hash`, `_source_ref`."""
    held = engine.view("held", f"SELECT *, ingestion_date AS _ingestion_date, ingestion_date AS {PARTITION} FROM "
                               f"{quarantine} WHERE {STATUS} = 'held'")
    present = {*raw_columns(spec), CORRUPT, *LINEAGE}
    conformed = engine.view("held_raw", conform_sql(spec, held, present, (PARTITION,)))
    return engine.view("held_typed", standardize_sql(spec, conformed, (PARTITION,)))


def _pending(engine: Engine, spec: SilverSpec, silver_table: str) -> str:
    """Keys an interrupted run recorded in `<table>/_pending` before its first write (settled again now)."""
    types = dict(silver_types(spec))
    files = folder_files(join(silver_table, PENDING))
    return engine.register("pending", join(silver_table, PENDING), files,
                           tuple((c, types[c]) for c in spec.primary_key), partitioned=False)


def _rewrite(engine: Engine, table_path: str, columns: Columns, day: str, kept: str, added: str,
             order_by: tuple[str, ...]) -> dict[str, Any]:
    """Replace partition `day` with its current rows matching predicate `kept` (alias `c`) plus relation `added`."""
    current = register_table(engine, "rewrite", table_path, columns, [day])
    listed = ", ".join(c for c, _ in columns)
    return _write(engine, f"SELECT {listed} FROM {current} AS c WHERE {kept} UNION ALL SELECT {listed} FROM {added}",
                  columns, table_path, day, order_by)


def build_table(engine: Engine, spec: SilverSpec, job: SilverArgs) -> SilverDay:
    """Merge bronze partition D of `spec` into silver and quarantine; return the day's report.

    The keys D touches or used to touch (its candidates, its current and every held row, silver rows whose
    reference was withdrawn, keys an interrupted run left pending) are settled again from the bronze history of
    those keys by the from-scratch rule (silver_merge); the partitions whose rows change are rewritten."""
    silver_table, quarantine_table = job.path("silver"), job.path("quarantine")
    writer.recover(silver_table)
    writer.recover(quarantine_table)
    pk, types, q_types = spec.primary_key, silver_types(spec), quarantine_types(spec)
    day, keys_list = literal(job.day), ", ".join(pk)
    silver = register_table(engine, "silver", silver_table, types)
    quarantine = register_table(engine, "quarantine", quarantine_table, q_types)
    refs = _refs(engine, spec, job.silver_path, "ref")
    history_days = _merged_days(silver_table, quarantine_table, job.day)
    batch = engine.materialize("batch", batch_sql(spec, _standardized(engine, spec, job, [job.day], None)))
    held = _held(engine, spec, quarantine)
    sources = [f"(SELECT {keys_list} FROM {batch} WHERE {STATUS} = {literal(CANDIDATE)})",
               f"(SELECT {keys_list} FROM {silver} WHERE ingestion_date = {day})", held,
               _pending(engine, spec, silver_table)]
    if spec.foreign_keys:
        sources.append(f"({orphaned_sql(spec, silver, refs)})")
    keys = engine.materialize("keys", affected_keys_sql(spec, sources))
    columns = standardized_columns(spec)
    candidates = [f"SELECT {', '.join([*columns, BATCH])} FROM {batch} WHERE {STATUS} = {literal(CANDIDATE)}"]
    if history_days:
        history = engine.view("history", batch_sql(spec, _standardized(engine, spec, job, history_days, keys)))
        candidates.append(f"SELECT {', '.join([*columns, BATCH])} FROM {history} WHERE {STATUS} = {literal(CANDIDATE)}")
    settled = engine.materialize("settled", settle_sql(spec, f"({' UNION ALL '.join(candidates)})", columns, refs))
    existing = engine.materialize("existing", f"SELECT {keys_list}, _record_hash, _run_id, ingestion_date AS "
                                              f"{PARTITION} FROM {silver} AS s WHERE {in_keys(spec, 's', keys)}")
    current = engine.view("current", keep_run_ids_sql(
        f"(SELECT * FROM {settled} WHERE {STATUS} = 'current')", [*silver_columns(spec), BATCH], existing,
        [*pk, "_record_hash"], job.run_id))
    rejected = f"(SELECT * FROM {batch} WHERE {STATUS} = 'rejected')"
    new_q = engine.view("new_quarantine", keep_run_ids_sql(
        f"({quarantine_sql(spec, rejected)} UNION ALL {quarantine_sql(spec, settled)})",
        [*(c for c, _ in q_types), BATCH], quarantine, [*BY_QUARANTINE_ROW, STATUS], job.run_id))
    plan = engine.rows(plan_sql(spec, batch, settled, existing, held, silver, job.day))
    by_kind = {kind: [r for r in plan if r["k"] == kind]
               for kind in ("batch", "settled", "silver", "held", "released", "total")}
    silver_days = sorted(r["p"] for r in by_kind["silver"] if r["p"] != job.day and (r["a"] or r["b"]))
    held_days = sorted(r["p"] for r in by_kind["held"] if r["p"] != job.day and (r["a"] or r["b"]))

    if silver_days or held_days:
        engine.write(f"SELECT * FROM {keys}", silver_table, PENDING, pk)
    written = [_rewrite(engine, silver_table, types, p, f"NOT {in_keys(spec, 'c', keys)}",
                        f"(SELECT * FROM {current} WHERE {BATCH} = {literal(p)})", pk) for p in [job.day, *silver_days]]
    for p in [job.day, *held_days]:  # partition D is batch D's alone; elsewhere only held rows change
        _rewrite(engine, quarantine_table, q_types, p, "false" if p == job.day else f"c.{STATUS} <> 'held'",
                 f"(SELECT * FROM {new_q} WHERE {BATCH} = {literal(p)})", BY_QUARANTINE_ROW)
    writer.remove(silver_table, PENDING)
    return _day(_result(by_kind, [job.day, *silver_days], [job.day, *held_days]), written[0]["bytes"], types)


def _result(by_kind: dict[str, list[dict[str, Any]]], rewritten: list[str], q_rewritten: list[str]) -> dict[str, Any]:
    """The run's counts for batch D from the plan rows, reconciling with bronze D's rows."""
    def total(kind: str, status: str | None = None) -> int:
        return sum(int(r["n"]) for r in by_kind[kind] if status in (None, r["s"]))

    quarantined = [(list(r["r"]), int(r["n"])) for kind in ("batch", "settled") for r in by_kind[kind]
                   if r["s"] in ("rejected", "held")]
    removed = sum(int(r["a"] or 0) for r in by_kind["silver"])
    added = sum(int(r["b"] or 0) for r in by_kind["silver"])
    return {
        "bronze_rows": total("batch"),
        "contributing": total("settled", "current"),
        "exact_duplicates": total("batch", "duplicate") + total("settled", "duplicate"),
        "superseded": total("settled", "superseded"),
        "quarantined": total("batch", "rejected") + total("settled", "held"),
        "quarantined_by_rule": rule_counts(quarantined),
        "held": total("settled", "held"),
        "released": total("released"),
        "replaced": sum(int(r["a"] or 0) for r in by_kind["silver"] if r["p"] != rewritten[0]),
        "rows": total("total") - removed + added,
        "partitions_rewritten": tuple(rewritten),
        "quarantine_partitions_rewritten": tuple(q_rewritten),
    }


def _day(counts: dict[str, Any], written_bytes: int, types: Columns) -> SilverDay:
    """The day's report from its counts, the bytes of partition D as written and the table's columns."""
    return SilverDay(**counts, bytes=int(written_bytes), schema=as_schema(types),
                     reconciliation=Reconciliation(**reconciliation(counts)))


def table_quality(engine: Engine, spec: SilverSpec, silver_path: str) -> SilverQuality:
    """Null and duplicate keys, unresolved foreign keys and out-of-range values over the current table."""
    table = register_table(engine, "measured", join(silver_path, spec.name), silver_types(spec))
    refs = _refs(engine, spec, silver_path, "measured_ref")
    sql, names, orphans = silver_quality.measures_sql(spec, table, refs)
    return SilverQuality(**silver_quality.quality(engine.rows(sql)[0], names, orphans))


def build_web_events(engine: Engine, job: SilverArgs) -> SilverDay:
    """Replace web_events partition D with bronze D's parsed lines; malformed lines go to quarantine D."""
    silver_table, quarantine_table = job.path("silver"), job.path("quarantine")
    writer.recover(silver_table)
    writer.recover(quarantine_table)
    types, q_types, day, on = web.web_types(), web.web_quarantine_types(), literal(job.day), ["_source_ref", "_record_hash"]
    wanted = {c: "boolean" if c == "_parse_error" else "string" for c in web.bronze_log_inputs()}
    bronze, present = _bronze(engine, job, WEB_EVENTS.bronze, wanted)
    events = engine.materialize("events", web.standardize_logs_sql(engine.view("logs", web.conform_logs_sql(bronze, present))))
    # Each write reads the partition it replaces: the rows are computed before the swap.
    previous = f"(SELECT * FROM {register_table(engine, 'web', silver_table, types, [job.day])})"
    previous_q = f"(SELECT * FROM {register_table(engine, 'web_q', quarantine_table, q_types, [job.day])})"
    rows = keep_run_ids_sql(f"({web.web_silver_sql(events)})", [c for c, _ in types], previous, on, job.run_id)
    written = _write(engine, rows, types, silver_table, job.day, ("ts", "_source_ref", "_record_hash"))
    quarantine = keep_run_ids_sql(f"({web.web_quarantine_sql(events)})", [c for c, _ in q_types], previous_q, on, job.run_id)
    _write(engine, quarantine, q_types, quarantine_table, job.day, tuple(on))
    counts = engine.rows(f"SELECT count(*) AS n, sum(CASE WHEN array_length({RULES_COL}) > 0 THEN 1 ELSE 0 END) AS bad "
                         f"FROM {events}")[0]
    bad_rules = engine.rows(f"SELECT {RULES_COL} AS r, count(*) AS n FROM {events} WHERE array_length({RULES_COL}) > 0 "
                            f"GROUP BY {RULES_COL}")
    total = engine.rows(f"SELECT count(*) AS n FROM {register_table(engine, 'web_now', silver_table, types)}")[0]["n"]
    n, bad = int(counts["n"]), int(counts["bad"] or 0)
    return _day({
        "bronze_rows": n, "contributing": n - bad, "exact_duplicates": 0, "superseded": 0, "quarantined": bad,
        "quarantined_by_rule": rule_counts((list(r["r"]), int(r["n"])) for r in bad_rules),
        "held": 0, "released": 0, "replaced": 0, "rows": int(total),
        "partitions_rewritten": (job.day,), "quarantine_partitions_rewritten": (job.day,),
    }, written["bytes"], types)
