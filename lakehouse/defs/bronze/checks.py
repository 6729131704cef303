"""Bronze asset checks, evaluated per partition from what the Glue job reported."""

from __future__ import annotations

import dagster as dg
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.common.reports import BronzeDay, LandingCounts, plain
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


def evaluate(spec: BronzeSpec, key: dg.AssetKey, day: BronzeDay, previous: list[str] | None) -> list[dg.AssetCheckResult]:
    """Check results for one partition's report."""
    rows, source_rows = day.rows, day.source_rows
    columns = [c for c, _ in day.schema]
    corrupt = [plain(c) for c in day.corrupt_files]
    missing = [plain(m) for m in day.landing.missing_columns] if day.landing else []
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
        results += landing_results(key, _landing(spec, day), rows)
    if spec.fmt == "log":
        failures = _landing(spec, day).parse_failures
        rate = failures / rows if rows else 0.0
        results.append(dg.AssetCheckResult(
            check_name="parse_failure_rate_within_threshold", asset_key=key,
            passed=rate <= PARSE_FAILURE_THRESHOLD,
            metadata={"parse_failures": failures, "rate": rate, "threshold": PARSE_FAILURE_THRESHOLD},
        ))
    return [*results, *evaluate_source_accounting(spec, key, day)]


def _landing(spec: BronzeSpec, day: BronzeDay) -> LandingCounts:
    """The landing accounting a file-drop or web-log partition's report must carry."""
    if day.landing is None:
        raise ValueError(f"the {spec.job} report of {spec.name} has no landing counts")
    return day.landing


def landing_results(key: dg.AssetKey, landing: LandingCounts, rows: int) -> list[dg.AssetCheckResult]:
    """Accounting and unread-name results of a landing-zone partition."""
    read, rejected = landing.records_read, landing.records_rejected
    skipped = [plain(s) for s in landing.skipped_names]
    return [
        dg.AssetCheckResult(check_name="records_accounted_for", asset_key=key, passed=read == rows + rejected,
                            metadata={"records_read": read, "rows_written": rows, "records_rejected": rejected,
                                      "rejected_records": dg.MetadataValue.json(
                                          [plain(r) for r in landing.rejected_records])}),
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


def evaluate_source_accounting(spec: BronzeSpec, key: dg.AssetKey, day: BronzeDay) -> list[dg.AssetCheckResult]:
    """The accounting check's result for one partition's report (database tables only)."""
    if spec.source != "db":
        return []
    if day.accounting is None:
        raise ValueError(f"the {spec.job} report of {spec.name} has no source accounting")
    source, seen = day.accounting.source_rows_total, day.accounting.bronze_rows_seen
    return [dg.AssetCheckResult(
        check_name=SEEN_EVERY_SOURCE_ROW, asset_key=key, passed=source == seen and source >= 0,
        metadata={"source_rows_total": source, "bronze_rows_seen": seen, "missing": source - seen,
                  "outside_window_rows": day.accounting.outside_window_rows},
    )]
