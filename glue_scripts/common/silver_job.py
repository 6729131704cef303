"""silver_build's work on one table and day, on the engine the job picked: read, merge, write, count.

Relations that later writes would replace (the batch, the ranking) are materialized before the first write;
each write replaces one partition through `Engine.write` (the one write path), reading only files it does not
replace or has computed before the swap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow.fs as pafs

from glue_scripts.common import writer
from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.common.specs import SILVER_BY_NAME, SilverSpec
from glue_scripts.engine import Engine
from glue_scripts.engine.dialect import Columns, literal, typed_select
from glue_scripts.engine.io import register_present, register_table
from glue_scripts.transforms import silver_quality
from glue_scripts.transforms import silver_web as web
from glue_scripts.transforms.silver_merge import (
    ORIGIN, PARTITION, RULES_COL, STATUS, WINNER, classify_sql, keep_run_ids_sql, merge_rows_sql, quarantine_sql,
    rank_sql, released_sql, rule_counts,
)
from glue_scripts.transforms.silver_standardize import (
    CORRUPT, LINEAGE, VERSION, bronze_inputs, conform_sql, quarantine_types, raw_columns, silver_columns,
    silver_types, standardize_sql, standardized_columns,
)

BY_QUARANTINE_ROW: tuple[str, ...] = ("_record_hash", "_source_ref")


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


def _released(engine: Engine, spec: SilverSpec, job: SilverArgs, quarantine: str, refs: dict[str, str]) -> str:
    """Held rows of other quarantine partitions whose foreign keys now resolve, standardized, with `_partition`."""
    held = engine.view("held", f"SELECT *, ingestion_date AS _ingestion_date, ingestion_date AS {PARTITION} FROM "
                               f"{quarantine} WHERE {STATUS} = 'held' AND ingestion_date <> {literal(job.day)}")
    present = {*raw_columns(spec), CORRUPT, *LINEAGE}
    conformed = engine.view("held_raw", conform_sql(spec, held, present, (PARTITION,)))
    typed = engine.view("held_typed", standardize_sql(spec, conformed, (PARTITION,)))
    columns = ", ".join(c for c in silver_columns(spec) if c != "_run_id")
    return engine.view("released", f"SELECT {columns}, {literal(job.run_id)} AS _run_id, {PARTITION} "
                                   f"FROM ({released_sql(spec, typed, refs)}) AS r")


def _rewrite_without(engine: Engine, table_path: str, columns: Columns, day: str, drop: str,
                     on: tuple[str, ...], order_by: tuple[str, ...]) -> str:
    """Rewrite one partition without the rows matching relation `drop` on `on`."""
    current = register_table(engine, f"rewrite_{day.replace('-', '_')}", table_path, columns, [day])
    match = " AND ".join(f"c.{c} = d.{c}" for c in on)
    kept = f"SELECT c.* FROM {current} AS c WHERE NOT EXISTS (SELECT 1 FROM {drop} AS d WHERE {match})"
    _write(engine, kept, columns, table_path, day, order_by)
    return day


def build_table(engine: Engine, spec: SilverSpec, job: SilverArgs) -> dict[str, Any]:
    """Merge bronze partition D of `spec` into silver and quarantine; return the run's counts."""
    silver_table, quarantine_table = job.path("silver"), job.path("quarantine")
    writer.recover(silver_table)
    writer.recover(quarantine_table)
    pk, types, q_types = spec.primary_key, silver_types(spec), quarantine_types(spec)
    day = literal(job.day)
    silver = register_table(engine, "silver", silver_table, types)
    other = engine.view("other", f"SELECT {', '.join([*pk, VERSION, '_ingestion_date', '_record_hash'])}, "
                                 f"ingestion_date AS {PARTITION} FROM {silver} WHERE ingestion_date <> {day}")
    existing_d = engine.view("existing_d", f"SELECT * FROM {silver} WHERE ingestion_date = {day}")
    refs = _refs(engine, spec, job.silver_path, "ref")
    bronze, present = _bronze(engine, job, spec.bronze, {c: "string" for c in bronze_inputs(spec)})
    typed = engine.view("typed", standardize_sql(spec, engine.view("conformed", conform_sql(spec, bronze, present))))
    batch = engine.materialize("batch", classify_sql(spec, typed, other, refs))
    valid = engine.view("valid", keep_run_ids_sql(
        f"(SELECT * FROM {batch} WHERE {STATUS} = 'valid')", standardized_columns(spec) + ("_run_id",),
        f"(SELECT * FROM {existing_d} WHERE _ingestion_date = {day})", [*pk, "_record_hash"], job.run_id))
    quarantine = register_table(engine, "quarantine", quarantine_table, q_types)
    released = _released(engine, spec, job, quarantine, refs)
    keep = f"(SELECT * FROM {existing_d} WHERE _ingestion_date <> {day})"
    merged = merge_rows_sql(spec, job.day, valid, released, keep, other)
    ranked = engine.materialize("ranked", rank_sql(spec, f"({merged})"))
    counted = engine.rows(
        f"SELECT 'ranked' AS k, {ORIGIN} AS o, {WINNER} AS w, {PARTITION} AS p, CAST(NULL AS VARCHAR[]) AS r, "
        f"count(*) AS n FROM {ranked} GROUP BY {ORIGIN}, {WINNER}, {PARTITION} UNION ALL "
        f"SELECT 'batch', {STATUS}, CAST(NULL AS BOOLEAN), CAST(NULL AS VARCHAR), {RULES_COL}, count(*) FROM {batch} "
        f"GROUP BY {STATUS}, {RULES_COL}")
    stats = [(r["o"], bool(r["w"]), r["p"], int(r["n"])) for r in counted if r["k"] == "ranked"]
    grouped = [(r["o"], list(r["r"]), int(r["n"])) for r in counted if r["k"] == "batch"]
    previous_q = f"(SELECT * FROM {quarantine} WHERE ingestion_date = {day})"

    new_d = f"SELECT {', '.join(silver_columns(spec))} FROM {ranked} WHERE {WINNER} AND {ORIGIN} <> 'old'"
    written = _write(engine, new_d, types, silver_table, job.day, pk)
    rewritten = [job.day]
    for old_day in sorted({p for o, w, p, _ in stats if o == "old" and not w}):
        drop = engine.view("drop_old", f"SELECT {', '.join([*pk, '_record_hash'])} FROM {ranked} WHERE NOT "
                                              f"{WINNER} AND {ORIGIN} = 'old' AND {PARTITION} = {literal(old_day)}")
        rewritten.append(_rewrite_without(engine, silver_table, types, old_day, drop, (*pk, "_record_hash"), pk))
    rows = keep_run_ids_sql(f"({quarantine_sql(spec, batch)})", [c for c, _ in q_types], previous_q,
                            [*BY_QUARANTINE_ROW, STATUS], job.run_id)
    _write(engine, rows, q_types, quarantine_table, job.day, BY_QUARANTINE_ROW)
    q_rewritten = [job.day]
    for q_day in sorted({p for o, _, p, _ in stats if o == "released"}):
        drop = engine.view("drop_released", f"SELECT {', '.join(BY_QUARANTINE_ROW)} FROM {ranked} WHERE "
                                                   f"{ORIGIN} = 'released' AND {PARTITION} = {literal(q_day)}")
        q_rewritten.append(_rewrite_without(engine, quarantine_table, q_types, q_day, drop, BY_QUARANTINE_ROW,
                                            BY_QUARANTINE_ROW))
    status = {k: sum(n for s, _, n in grouped if s == k) for k in ("duplicate", "rejected", "held", "valid")}

    def count(origin: str, winner: bool | None = None) -> int:
        return sum(n for o, w, _, n in stats if o == origin and winner in (None, w))

    result = {
        "bronze_rows": sum(status.values()),
        "contributing": count("batch", True),
        "exact_duplicates": status["duplicate"],
        "superseded": count("batch", False),
        "quarantined": status["rejected"] + status["held"],
        "quarantined_by_rule": rule_counts((rules, n) for s, rules, n in grouped if s in ("rejected", "held")),
        "held": status["held"],
        "released": count("released"),
        "replaced": count("old", False),
        "rows": sum(n for _, w, _, n in stats if w),
        "partitions_rewritten": rewritten,
        "quarantine_partitions_rewritten": q_rewritten,
        "bytes": written["bytes"],
        "schema": [[n, kind] for n, kind in types],
    }
    if job.quality:
        result["quality"] = table_quality(engine, spec, job.silver_path)
    return result


def table_quality(engine: Engine, spec: SilverSpec, silver_path: str) -> dict[str, Any]:
    """Null and duplicate keys, unresolved foreign keys and out-of-range values over the current table."""
    table = register_table(engine, "measured", join(silver_path, spec.name), silver_types(spec))
    refs = _refs(engine, spec, silver_path, "measured_ref")
    sql, names, orphans = silver_quality.measures_sql(spec, table, refs)
    return silver_quality.quality(engine.rows(sql)[0], names, orphans)


def build_web_events(engine: Engine, job: SilverArgs) -> dict[str, Any]:
    """Replace web_events partition D with bronze D's parsed lines; malformed lines go to quarantine D."""
    silver_table, quarantine_table = job.path("silver"), job.path("quarantine")
    writer.recover(silver_table)
    writer.recover(quarantine_table)
    types, q_types, day, on = web.web_types(), web.web_quarantine_types(), literal(job.day), ["_source_ref", "_record_hash"]
    wanted = {c: "boolean" if c == "_parse_error" else "string" for c in web.bronze_log_inputs()}
    bronze, present = _bronze(engine, job, web.WEB_BRONZE, wanted)
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
    return {
        "bronze_rows": n, "contributing": n - bad, "exact_duplicates": 0, "superseded": 0, "quarantined": bad,
        "quarantined_by_rule": rule_counts((list(r["r"]), int(r["n"])) for r in bad_rules),
        "held": 0, "released": 0, "replaced": 0, "rows": int(total),
        "partitions_rewritten": [job.day], "quarantine_partitions_rewritten": [job.day], "bytes": written["bytes"],
        "schema": [[name, kind] for name, kind in types],
    }
