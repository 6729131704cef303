"""The run summary names the seeded fault behind a failed check from the simulator's manifest, and shows what the
check measured against its threshold."""

from rich.console import Console

from lakehouse.pipeline import CheckOutcome, RunSummary
from lakehouse.summary import measured, print_summary, seeded_fault

NO_BAD = {"null_key": 0, "unparseable_number": 0}
MANIFEST = {
    "logs": {"corrupt_file": {"ingestion_date": "2024-01-01", "path": "logs/web_access/ingestion_date=2024-01-01/a.log.gz"}},
    "schema_drift": {"table": "files__part", "column": "p_origin", "from_day": "2024-01-02"},
    "tables": {
        "files__supplier": {"silver_table": "supplier", "days": {"2024-01-01": {"bad_rows": NO_BAD},
                                                                 "2024-01-02": {"bad_rows": {"null_key": 2, "unparseable_number": 1}}}},
        "db__orders": {"silver_table": "orders", "days": {"2024-01-02": {"bad_rows": NO_BAD}}},
    },
}
RATIO = {"ratio": 0.6, "warn_above": 0.05, "fail_above": 0.5, "quarantined_by_rule": {"null_key": 2}}


def _outcome(asset: str, check: str, day: str, blocking: bool = False, metadata: dict | None = None) -> CheckOutcome:
    return CheckOutcome(asset, check, day, blocking, metadata or {})


def test_seeded_faults_are_named_and_other_failures_are_not() -> None:
    corrupt = _outcome("bronze/logs__web_access", "has_no_corrupt_files", "2024-01-01")
    assert seeded_fault(corrupt, MANIFEST) == "truncated gzip log file logs/web_access/ingestion_date=2024-01-01/a.log.gz"
    assert seeded_fault(_outcome("bronze/logs__web_access", "has_no_corrupt_files", "2024-01-02"), MANIFEST) is None
    drift = _outcome("bronze/files__part", "schema_matches_previous_partition", "2024-01-02")
    assert seeded_fault(drift, MANIFEST) == "schema drift: column p_origin added from 2024-01-02"
    bad = _outcome("silver/supplier", "quarantine_ratio_within_threshold", "2024-01-02", metadata=RATIO)
    assert seeded_fault(bad, MANIFEST) == "3 bad row(s) seeded in the day's delivery (null_key 2, unparseable_number 1)"
    assert seeded_fault(_outcome("silver/supplier", "quarantine_ratio_within_threshold", "2024-01-01"), MANIFEST) is None
    assert seeded_fault(_outcome("silver/orders", "foreign_keys_resolve", "2024-01-02", True), MANIFEST) is None


def test_measured_puts_numbers_first_and_fits_one_line() -> None:
    assert measured(RATIO) == 'ratio=0.6 warn_above=0.05 fail_above=0.5 quarantined_by_rule={"null_key":2}'
    long = measured({"count": 1, "corrupt_files": [{"path": "x" * 200}]})
    assert long.startswith("count=1 corrupt_files=") and len(long) == 90 and long.endswith("…")


def test_failed_checks_are_grouped_into_blocking_and_warning() -> None:
    summary = RunSummary(days=["2024-01-01", "2024-01-02"], checks_passed=7, failed_checks=[
        _outcome("silver/supplier", "quarantine_ratio_within_threshold", "2024-01-02", metadata=RATIO),
        _outcome("silver/orders", "foreign_keys_resolve", "2024-01-02", True, {"orphans": {"o_custkey": 3}}),
    ])
    out, err = Console(record=True, width=200), Console(record=True, width=200)
    print_summary(summary, MANIFEST, out, err)
    lines = err.export_text().splitlines()
    assert not summary.ok
    assert lines[1] == "checks passed: 7, failed: 2 (1 blocking, 1 warning)"
    blocking, warning = lines.index("blocking (downstream assets of the day did not run)"), lines.index("warning (reported, nothing blocked)")
    assert lines[blocking + 1:blocking + 4] == ["  silver/orders:foreign_keys_resolve [2024-01-02]",
                                                 '      orphans={"o_custkey":3}', "      not a seeded fault"]
    assert lines[warning + 1] == "  silver/supplier:quarantine_ratio_within_threshold [2024-01-02]"
    assert lines[warning + 3].startswith("      expected: seeded fault, 3 bad row(s)")
