"""Silver asset checks: blocking key, reference, range and reconciliation checks; a graded quarantine ratio."""

import dagster as dg

from glue_scripts.common.catalogue import SILVER_RECONCILES
from glue_scripts.common.reports import SilverDay, SilverQuality
from glue_scripts.common.specs import SilverSpec, SilverTable
from lakehouse.defs.common import per_day

RECONCILIATION = " ; ".join(f"{k} == {v}" for k, v in SILVER_RECONCILES.items())


class QuarantineThresholds(dg.Config):
    """Quarantine ratio (quarantined / bronze rows of the partition) that warns, and that fails, and the bronze rows a
    partition needs before its ratio counts: 3 bad rows of a 5-row update day say nothing about the source."""

    quarantine_warn_ratio: float = 0.05
    quarantine_fail_ratio: float = 0.5
    quarantine_min_rows: int = 100


def check_specs(spec: SilverTable, key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """Blocking checks guard gold and Snowflake; the quarantine ratio only reports; keyed tables also have their key,
    reference and range checks. Each is evaluated per ingestion day."""
    specs = [
        dg.AssetCheckSpec("reconciles_with_bronze", asset=key, blocking=True, description=f"Per ingestion date: {RECONCILIATION}."),
        dg.AssetCheckSpec("quarantine_ratio_within_threshold", asset=key,
                          description="Quarantined share of the partition's bronze rows: warns above one threshold, fails above "
                                      "another; a partition with fewer bronze rows than the minimum is not judged."),
    ]
    if isinstance(spec, SilverSpec):
        specs += [
            dg.AssetCheckSpec("primary_key_is_unique_and_not_null", asset=key, blocking=True,
                              description=f"({', '.join(spec.primary_key)}) is never null and never repeated."),
            dg.AssetCheckSpec("foreign_keys_resolve", asset=key, blocking=True,
                              description="Every foreign key resolves: " + ("; ".join(f"{','.join(f.columns)} -> {f.table}" for f in spec.foreign_keys) or "none declared") + "."),
            dg.AssetCheckSpec("values_in_accepted_ranges", asset=key, blocking=True,
                              description="Accepted values hold and quantities and prices are non-negative."),
        ]
    return per_day(specs)


def evaluate(spec: SilverTable, key: dg.AssetKey, day: SilverDay, quality: SilverQuality | None,
             thresholds: QuarantineThresholds) -> list[dg.AssetCheckResult]:
    """Check results from one day's counts and the table's quality measures (None when not measured: the key
    check fails, as no measure says the key holds)."""
    counts = {k: getattr(day, k) for k in ("bronze_rows", "contributing", "exact_duplicates", "superseded", "quarantined")}
    accounted = counts["contributing"] + counts["exact_duplicates"] + counts["superseded"] + counts["quarantined"]
    ratio = counts["quarantined"] / counts["bronze_rows"] if counts["bronze_rows"] else 0.0
    judged = counts["bronze_rows"] >= thresholds.quarantine_min_rows
    severity = dg.AssetCheckSeverity.ERROR if judged and ratio > thresholds.quarantine_fail_ratio else dg.AssetCheckSeverity.WARN
    results = [
        dg.AssetCheckResult(check_name="reconciles_with_bronze", asset_key=key, passed=accounted == counts["bronze_rows"],
                            metadata={**counts, "accounted": accounted}),
        dg.AssetCheckResult(
            check_name="quarantine_ratio_within_threshold", asset_key=key,
            passed=not judged or ratio <= thresholds.quarantine_warn_ratio, severity=severity,
            description=None if judged else (f"{counts['bronze_rows']} bronze rows, fewer than the "
                                             f"{thresholds.quarantine_min_rows} needed to judge the ratio: not judged."),
            metadata={"ratio": ratio, "judged": judged, "bronze_rows": counts["bronze_rows"],
                      "min_rows": thresholds.quarantine_min_rows, "warn_above": thresholds.quarantine_warn_ratio,
                      "fail_above": thresholds.quarantine_fail_ratio,
                      "quarantined_by_rule": dg.MetadataValue.json(dict(day.quarantined_by_rule))}),
    ]
    if not isinstance(spec, SilverSpec):
        return results
    null_keys, duplicate_keys = (quality.null_keys, quality.duplicate_keys) if quality else (-1, -1)
    orphans = dict(quality.orphans) if quality else {}
    violations = dict(quality.violations) if quality else {}
    results += [
        dg.AssetCheckResult(check_name="primary_key_is_unique_and_not_null", asset_key=key,
                            passed=null_keys == 0 and duplicate_keys == 0,
                            metadata={"null_keys": null_keys, "duplicate_keys": duplicate_keys}),
        dg.AssetCheckResult(check_name="foreign_keys_resolve", asset_key=key, passed=not any(orphans.values()),
                            metadata={"orphans": dg.MetadataValue.json(orphans)}),
        dg.AssetCheckResult(check_name="values_in_accepted_ranges", asset_key=key, passed=not any(violations.values()),
                            metadata={"violations": dg.MetadataValue.json(violations)}),
    ]
    return results
