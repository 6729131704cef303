"""The quarantine-ratio check judges a partition only from a minimum number of bronze rows, and says so."""

import dagster as dg

from glue_scripts.common.reports import Reconciliation, SilverDay
from lakehouse.defs.silver.checks import QuarantineThresholds, evaluate

SUPPLIER = dg.AssetKey(["silver", "supplier"])


def _ratio_check(bronze_rows: int, quarantined: int, thresholds: QuarantineThresholds) -> dg.AssetCheckResult:
    day = SilverDay(bronze_rows=bronze_rows, contributing=bronze_rows - quarantined, exact_duplicates=0, superseded=0,
                    quarantined=quarantined, quarantined_by_rule={"null_key": quarantined}, held=0, released=0,
                    replaced=0, rows=bronze_rows - quarantined, bytes=1, partitions_rewritten=(),
                    quarantine_partitions_rewritten=(), schema=(), reconciliation=Reconciliation(bronze_rows, bronze_rows, 0, True))
    checks = evaluate(None, SUPPLIER, day, None, thresholds)
    return next(r for r in checks if r.check_name == "quarantine_ratio_within_threshold")


def test_a_tiny_update_day_is_not_judged_and_says_why() -> None:
    check = _ratio_check(5, 3, QuarantineThresholds())
    assert check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["judged"].value is False
    assert check.metadata["ratio"].value == 0.6
    assert check.metadata["min_rows"].value == QuarantineThresholds().quarantine_min_rows > 5
    assert "fewer than the" in (check.description or "")


def test_from_the_minimum_rows_the_ratio_warns_then_fails() -> None:
    thresholds = QuarantineThresholds(quarantine_min_rows=5)
    failing = _ratio_check(5, 3, thresholds)
    assert not failing.passed and failing.severity == dg.AssetCheckSeverity.ERROR
    assert failing.metadata["judged"].value is True and failing.description is None
    warning = _ratio_check(200, 20, QuarantineThresholds())
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN
    assert _ratio_check(200, 10, QuarantineThresholds()).passed
