"""The end of `lakehouse run`: rows per catalogued table, and every failed check explained."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lakehouse.pipeline import CheckOutcome, RunSummary
from lakehouse.settings import load_settings

METADATA_WIDTH = 90


def table_rows() -> dict[str, int]:
    """`database.table` → row count, for every table the profile's catalog holds (no Dagster definitions loaded)."""
    from lakehouse.resources import query_engine

    engine = query_engine(load_settings())
    counts: dict[str, int] = {}
    for qualified in engine.query("SHOW TABLES").column("tab_name").to_pylist():
        database, name = qualified.split(".", 1)
        counts[f"{database}.{name}"] = int(engine.query(f'SELECT count(*) AS n FROM "{database}"."{name}"').column(0)[0].as_py())
    return counts


def seeded_fault(outcome: CheckOutcome, manifest: dict[str, Any]) -> str | None:
    """The fault the simulator seeded that this failure reports, from its manifest; None when it is not one."""
    layer, table = outcome.asset.split("/", 1)
    if layer == "bronze" and outcome.check == "has_no_corrupt_files":
        corrupt = manifest.get("logs", {}).get("corrupt_file") or {}
        if table == "logs__web_access" and corrupt.get("ingestion_date") == outcome.day:
            return f"truncated gzip log file {corrupt['path']}"
    if layer == "bronze" and outcome.check == "schema_matches_previous_partition":
        drift = manifest.get("schema_drift") or {}
        if drift.get("table") == table and drift.get("from_day") == outcome.day:
            return f"schema drift: column {drift['column']} added from {drift['from_day']}"
    if layer == "silver" and outcome.check == "quarantine_ratio_within_threshold":
        bad = _bad_rows(manifest, table, outcome.day)
        if bad:
            rules = ", ".join(f"{rule} {n}" for rule, n in sorted(bad.items()))
            return f"{sum(bad.values())} bad row(s) seeded in the day's delivery ({rules})"
    if layer == "bronze" and outcome.check == "parse_failure_rate_within_threshold":
        bad = _bad_rows(manifest, manifest.get("tables", {}).get(table, {}).get("silver_table", ""), outcome.day)
        if bad:
            return f"{sum(bad.values())} malformed log line(s) seeded"
    return None


def _bad_rows(manifest: dict[str, Any], silver_table: str, day: str) -> dict[str, int]:
    """Bad rows per rule seeded on `day` into the bronze tables that feed `silver_table`."""
    bad: dict[str, int] = {}
    for entry in manifest.get("tables", {}).values():
        if entry.get("silver_table") == silver_table:
            for rule, n in entry.get("days", {}).get(day, {}).get("bad_rows", {}).items():
                if n:
                    bad[rule] = bad.get(rule, 0) + n
    return bad


def measured(metadata: dict[str, Any]) -> str:
    """The evaluation's measured values and thresholds as `key=value` pairs (numbers first), shortened to one line."""
    numbers, others = [], []
    for key, value in metadata.items():
        if isinstance(value, float):
            numbers.append(f"{key}={value:.4g}")
        elif isinstance(value, (int, bool)):
            numbers.append(f"{key}={value}")
        elif isinstance(value, (dict, list)):
            others.append(f"{key}={json.dumps(value, separators=(',', ':'), default=str)}")
        else:
            others.append(f"{key}={value}")
    line = " ".join(numbers + others)
    return line if len(line) <= METADATA_WIDTH else line[: METADATA_WIDTH - 1] + "…"


def print_summary(summary: RunSummary, manifest: dict[str, Any], out: Console, err: Console) -> None:
    """Rows per table on `out`; days, check totals and each failed check (grouped, explained) on `err`."""
    table = Table(title="lakehouse run")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary.table_rows.items():
        table.add_row(name, f"{rows:,}")
    out.print(table)
    err.print(f"days: {', '.join(summary.days)}")
    blocking = summary.blocking_failed
    warning = [c for c in summary.failed_checks if not c.blocking]
    err.print(f"checks passed: {summary.checks_passed}, failed: {len(summary.failed_checks)} "
              f"({len(blocking)} blocking, {len(warning)} warning)")
    for title, outcomes in (("blocking (downstream assets of the day did not run)", blocking),
                            ("warning (reported, nothing blocked)", warning)):
        if outcomes:
            err.print(f"[bold]{title}[/bold]")
        for outcome in outcomes:
            fault = seeded_fault(outcome, manifest)
            err.print(f"  {escape(outcome.label)}", highlight=False, soft_wrap=True)
            err.print(f"      {measured(outcome.metadata)}", highlight=False, markup=False, soft_wrap=True)
            err.print(f"      expected: seeded fault, {escape(fault)}" if fault else "      [red]not a seeded fault[/red]",
                      highlight=False, soft_wrap=True)
    for label in summary.failed_runs:
        err.print(f"  failed run {label}", highlight=False, soft_wrap=True)
