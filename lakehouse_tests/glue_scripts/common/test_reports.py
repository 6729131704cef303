"""Job reports: every kind survives JSON unchanged, and a report of the wrong shape is refused naming job and field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from glue_scripts.common.reports import (
    BronzeDay, BronzeReport, FileNote, GoldQuality, GoldReport, LandingCounts, MartBuild, MeasureReconciliation,
    MissingColumns, Partials, Reconciliation, RejectedRecord, ReportError, SilverDay, SilverQuality, SilverReport,
    SourceAccounting, parse_report,
)

D1, D2 = "2024-01-01", "2024-01-02"


def bronze_day(rows: int, landing: LandingCounts | None = None,
               accounting: SourceAccounting | None = None) -> BronzeDay:
    return BronzeDay(rows=rows, bytes=10 * rows, files=1, path=f"/b/files__region/ingestion_date={D1}",
                     source_rows=rows,
                     source_ref="2 file(s)", schema=(("r_regionkey", "string"), ("_ingested_at", "timestamp")),
                     corrupt_files=(FileNote("/l/bad.csv", "unreadable gzip"),), landing=landing, accounting=accounting)


LANDING = LandingCounts(files_read=2, records_read=5, records_rejected=1,
                        rejected_records=(RejectedRecord("/l/a.csv", 3, 2048, "record_too_large"),),
                        skipped_names=(FileNote("/l/.hidden", "hidden name"),),
                        missing_columns=(MissingColumns("/l/a.csv", ("r_comment",)),), parse_failures=0)
BRONZE = BronzeReport(job="bronze_ingest_files", table="files__region", path="/b/files__region",
                      days={D1: bronze_day(4, landing=LANDING), D2: bronze_day(0, landing=LANDING)})
DB = BronzeReport(job="bronze_ingest_db", table="db__orders", path="/b/db__orders",
                  days={D1: bronze_day(3, accounting=SourceAccounting(1, 7, 7))})
SILVER = SilverReport(
    job="silver_build", table="nation", path="/s/nation", quarantine_path="/q/nation",
    quality=SilverQuality(rows=4, null_keys=0, duplicate_keys=0, orphans={"n_regionkey -> region": 0}, violations={}),
    days={D1: SilverDay(bronze_rows=4, contributing=2, exact_duplicates=0, superseded=0, quarantined=2,
                        quarantined_by_rule={"unknown_foreign_key": 2}, held=2, released=0, replaced=0, rows=2,
                        bytes=99,
                        partitions_rewritten=(D1,), quarantine_partitions_rewritten=(D1,),
                        schema=(("n_nationkey", "bigint"),), reconciliation=Reconciliation(4, 4, 0, True))})
GOLD = GoldReport(job="gold_build", mart="pricing_summary", engine="duckdb", run_id="r1", days={D2: MartBuild(
    rows=4, bytes=900, files=1, path="/g/pricing_summary", schema=(("count_order", "bigint"),),
    totals={"count_order": 60, "sum_qty": "1530.00", "avg_disc": 0.25},
    quality=GoldQuality(grain_duplicates=0, negative_measures={"sum_qty": 0},
                        reconciliation={"count_order": MeasureReconciliation("60", "60", True)},
                        silver_days={"lineitem": D2, "orders": None}),
    recompute="incremental", partials=Partials(recomputed=(D2,), removed=(), reused=1))})


@pytest.mark.parametrize("report", [BRONZE, DB, SILVER, GOLD], ids=["files", "db", "silver", "gold"])
def test_every_kind_survives_json_unchanged(report: Any) -> None:
    assert parse_report(report.job, report.to_json()) == report
    assert type(report).from_json(json.loads(report.to_json())) == report


def test_a_day_keeps_its_typed_parts() -> None:
    day = parse_report("bronze_ingest_files", BRONZE.to_json()).days[D1]  # type: ignore[union-attr]
    assert isinstance(day, BronzeDay) and day.landing == LANDING and day.schema[1] == ("_ingested_at", "timestamp")
    totals = parse_report("gold_build", GOLD.to_json()).days[D2].totals  # type: ignore[union-attr]
    assert totals == {"count_order": 60, "sum_qty": "1530.00", "avg_disc": 0.25}
    assert [type(v) for v in totals.values()] == [int, str, float]


def edited(report: Any, edit: Any) -> str:
    """The report's JSON after `edit` changed the parsed object in place."""
    data = json.loads(report.to_json())
    edit(data)
    return json.dumps(data)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["days"][D1].update(rowz=1),
     r"bronze_ingest_files report: unknown field report\.days\['2024-01-01'\]\.rowz"),
    (lambda d: d["days"][D2].pop("source_ref"), r"missing field report\.days\['2024-01-02'\]\.source_ref"),
    (lambda d: d["days"][D1]["landing"].pop("parse_failures"), r"missing field .*\.landing\.parse_failures"),
    (lambda d: d["days"][D1].update(rows="4"), r"report\.days\['2024-01-01'\]\.rows is '4', expected int"),
    (lambda d: d["days"][D1].update(rows=True), r"\.rows is True, expected int"),
    (lambda d: d["days"][D1].update(schema=[["a", "string", "x"]]), r"\.schema\[0\] has 3 items, expected 2"),
    (lambda d: d.update(days={}), r"bronze_ingest_files report: field days is empty"),
    (lambda d: d.pop("table"), r"missing field report\.table"),
])
def test_a_report_of_the_wrong_shape_names_job_and_field(edit: Any, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse_report("bronze_ingest_files", edited(BRONZE, edit))


def test_a_report_of_another_job_or_kind_is_refused() -> None:
    with pytest.raises(ReportError, match=r"bronze_ingest_db report: field job is 'bronze_ingest_files'"):
        parse_report("bronze_ingest_db", BRONZE.to_json())
    with pytest.raises(ReportError, match=r"field job is 'gold_build', expected one of \['silver_build'\]"):
        SilverReport.from_json(GOLD.to_json())
    with pytest.raises(ReportError, match="no_such_job is not a Glue job with a report"):
        parse_report("no_such_job", BRONZE.to_json())


def test_for_days_names_the_days_the_job_did_not_report() -> None:
    assert list(BRONZE.for_days([D2, D1])) == [D2, D1]
    missing = r"bronze_ingest_db report: no result for ingestion date\(s\) \['2024-01-02'\]"
    with pytest.raises(ReportError, match=missing):
        DB.for_days([D1, D2])
