"""Bronze asset checks, evaluated per partition from what the Glue job reported."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.common.specs import BronzeSpec
from lakehouse.defs.common import per_day

PARSE_FAILURE_THRESHOLD = 0.05
LANDING_FORMATS = ("csv", "jsonl", "log")


def check_specs(spec: BronzeSpec, key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The checks every bronze table carries, plus the parse-failure rate for logs; each evaluated per ingestion day."""
    specs = [
        dg.AssetCheckSpec("rows_match_source", asset=key, blocking=True,
                          description="Rows written equal rows read from the source for the partition."),
        dg.AssetCheckSpec("not_empty_when_source_delivered", asset=key, blocking=True,
                          description="The partition holds rows whenever the source delivered any."),
        dg.AssetCheckSpec("schema_matches_previous_partition", asset=key,
                          description="Columns equal the previous partition's; drift warns, never fails."),
        dg.AssetCheckSpec("has_no_corrupt_files", asset=key,
                          description="No delivered file was unreadable; unreadable files sit in quarantine."),
    ]
    if spec.fmt in LANDING_FORMATS:
        # Blocking: a mismatch means records were lost or read twice before bronze, which no later
        # reconciliation can see (it starts from bronze), so silver must not consume the partition.
        specs.append(dg.AssetCheckSpec(
            "records_accounted_for", asset=key, blocking=True,
            description="Records the Python parsers counted in the delivered files equal the rows read back from "
                        "the written Parquet plus the records quarantined (too large, malformed)."))
        specs.append(dg.AssetCheckSpec(
            "landing_has_no_unread_names", asset=key,
            description="Every entry of the landing partition was read or refused: no sub-folder, hidden name or "
                        "unknown suffix sat there unread."))
    if spec.fmt == "log":
        specs.append(dg.AssetCheckSpec("parse_failure_rate_within_threshold", asset=key,
                                       description=f"At most {PARSE_FAILURE_THRESHOLD:.0%} of log lines fail to parse."))
    return per_day([*specs, *source_accounting_specs(spec, key)])


def previous_partition_columns(table_uri: str, day: str) -> list[str] | None:
    """Column names of the latest partition before `day`, or None when there is none."""
    fs, root = filesystem_for(table_uri)
    infos = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True))
    earlier = sorted(i.base_name for i in infos if i.base_name.startswith("ingestion_date=") and i.base_name < f"ingestion_date={day}")
    if not earlier:
        return None
    files = [i for i in fs.get_file_info(pafs.FileSelector(join(root, earlier[-1]))) if i.base_name.endswith(".parquet")]
    return pq.read_schema(files[0].path, filesystem=fs).names if files else None


def evaluate(spec: BronzeSpec, key: dg.AssetKey, result: dict[str, Any], previous: list[str] | None) -> list[dg.AssetCheckResult]:
    """Check results for one partition's job result."""
    rows, source_rows = int(result.get("rows", 0)), int(result.get("source_rows", 0))
    columns = [c for c, _ in result.get("schema", [])]
    corrupt = result.get("corrupt_files") or []
    missing = result.get("missing_columns") or []
    added = sorted(set(columns) - set(previous or columns))
    removed = sorted(set(previous or columns) - set(columns))
    results = [
        dg.AssetCheckResult(check_name="rows_match_source", asset_key=key, passed=rows == source_rows,
                            metadata={"rows_written": rows, "rows_read": source_rows}),
        dg.AssetCheckResult(check_name="not_empty_when_source_delivered", asset_key=key,
                            passed=rows > 0 or source_rows == 0, metadata={"rows_written": rows, "rows_read": source_rows}),
        dg.AssetCheckResult(check_name="schema_matches_previous_partition", asset_key=key,
                            passed=not (added or removed or missing), severity=dg.AssetCheckSeverity.WARN,
                            metadata={"added_columns": ", ".join(added) or "none", "removed_columns": ", ".join(removed) or "none",
                                      "files_missing_columns": dg.MetadataValue.json(missing)}),
        dg.AssetCheckResult(check_name="has_no_corrupt_files", asset_key=key, passed=not corrupt,
                            metadata={"corrupt_files": dg.MetadataValue.json(corrupt), "count": len(corrupt)}),
    ]
    if spec.fmt in LANDING_FORMATS:
        results += landing_results(key, result, rows)
    if spec.fmt == "log":
        failures = int(result.get("parse_failures", 0))
        rate = failures / rows if rows else 0.0
        results.append(dg.AssetCheckResult(
            check_name="parse_failure_rate_within_threshold", asset_key=key,
            passed=rate <= PARSE_FAILURE_THRESHOLD,
            metadata={"parse_failures": failures, "rate": rate, "threshold": PARSE_FAILURE_THRESHOLD},
        ))
    return [*results, *evaluate_source_accounting(spec, key, result)]


def landing_results(key: dg.AssetKey, result: dict[str, Any], rows: int) -> list[dg.AssetCheckResult]:
    """Accounting and unread-name results of a landing-zone partition."""
    read, rejected = int(result.get("records_read", 0)), int(result.get("records_rejected", 0))
    skipped = result.get("skipped_names") or []
    return [
        dg.AssetCheckResult(check_name="records_accounted_for", asset_key=key, passed=read == rows + rejected,
                            metadata={"records_read": read, "rows_written": rows, "records_rejected": rejected,
                                      "rejected_records": dg.MetadataValue.json(result.get("rejected_records") or [])}),
        dg.AssetCheckResult(check_name="landing_has_no_unread_names", asset_key=key, passed=not skipped,
                            severity=dg.AssetCheckSeverity.WARN,
                            metadata={"unread": dg.MetadataValue.json(skipped), "count": len(skipped)}),
    ]
# Database sources: every source row up to the partition's window end, outside-window rows included, is in bronze.
SEEN_EVERY_SOURCE_ROW = "bronze_has_seen_every_source_row"


def source_accounting_specs(spec: BronzeSpec, key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The database tables' check that bronze holds every row the source holds, counted by the database itself."""
    if spec.source != "db":
        return []
    return [dg.AssetCheckSpec(
        SEEN_EVERY_SOURCE_ROW, asset=key,
        description="The source's rows up to the partition's window end, plus its rows outside every watermark "
                    "window (NULL or non-canonical `updated_at`), equal the rows bronze holds for them.",
    )]


def evaluate_source_accounting(spec: BronzeSpec, key: dg.AssetKey, result: dict[str, Any]) -> list[dg.AssetCheckResult]:
    """The accounting check's result for one partition's job result (database tables only)."""
    if spec.source != "db":
        return []
    source, seen = int(result.get("source_rows_total", -1)), int(result.get("bronze_rows_seen", -1))
    return [dg.AssetCheckResult(
        check_name=SEEN_EVERY_SOURCE_ROW, asset_key=key, passed=source == seen and source >= 0,
        metadata={"source_rows_total": source, "bronze_rows_seen": seen, "missing": source - seen,
                  "outside_window_rows": int(result.get("outside_window_rows", 0))},
    )]
