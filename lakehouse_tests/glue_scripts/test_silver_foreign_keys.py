"""Late dimension keys: held in quarantine while the reference is missing, released once it arrives; web_events job."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from lakehouse_tests.glue_scripts.helpers import one_day
from lakehouse_tests.glue_scripts.test_silver_build import D1, D2, build, contents, current, quarantine, write_bronze


def region(key: str, updated_at: str = "2024-01-01 00:00:00") -> dict[str, str]:
    """One raw bronze region row."""
    return {"r_regionkey": key, "r_name": f"region {key}", "r_comment": "c", "updated_at": updated_at}


def nation(key: str, region_key: str) -> dict[str, str]:
    """One raw bronze nation row."""
    return {"n_nationkey": key, "n_name": f" nation {key}", "n_regionkey": region_key, "n_comment": "c",
            "updated_at": "2024-01-01 00:00:00"}


def test_late_key_is_held_then_released(tmp_path: Path) -> None:
    write_bronze(tmp_path, "files__region", D1, [region("0"), region("1")])
    write_bronze(tmp_path, "files__nation", D1, [
        nation("0", "0"), nation("1", "1"), nation("2", "2"), nation("3", "9")])
    write_bronze(tmp_path, "files__region", D2, [region("2", "2024-01-02 00:00:00")])
    write_bronze(tmp_path, "files__nation", D2, [nation("4", "0")])

    build(tmp_path, "region", D1)
    day1 = one_day(build(tmp_path, "nation", D1, run_id="n1"))
    assert (day1.held, day1.quarantined, day1.contributing) == (2, 2, 2)
    assert day1.quarantined_by_rule == {"unknown_foreign_key": 2}
    held = {r["n_nationkey"]: r for r in quarantine(tmp_path, "nation", D1)}
    assert set(held) == {"2", "3"} and {r["_status"] for r in held.values()} == {"held"}
    assert held["2"]["n_name"] == " nation 2", "quarantine keeps the raw value"

    build(tmp_path, "region", D2)
    report = build(tmp_path, "nation", D2, run_id="n2", quality=True)
    day2 = one_day(report)
    assert (day2.released, day2.held, day2.contributing) == (1, 0, 1)
    assert day2.quarantine_partitions_rewritten == (D2, D1)
    assert [r["n_nationkey"] for r in quarantine(tmp_path, "nation", D1)] == ["3"], "released row still in quarantine"
    rows = current(tmp_path, "nation")
    assert sorted(rows) == [0, 1, 2, 4] and rows[2]["n_name"] == "NATION 2" and rows[2]["_ingestion_date"] == D1
    assert report.quality is not None
    assert report.quality.orphans == {"n_regionkey -> region": 0} and report.quality.duplicate_keys == 0

    before = (contents(tmp_path, "silver", "nation"), contents(tmp_path, "quarantine", "nation"))
    rerun = one_day(build(tmp_path, "nation", D1, run_id="again"))
    assert rerun.released == 0 and rerun.held == 1
    build(tmp_path, "nation", D2, run_id="again")
    assert (contents(tmp_path, "silver", "nation"), contents(tmp_path, "quarantine", "nation")) == before


def test_web_events_job(tmp_path: Path) -> None:
    line = '1.2.3.4 - - [01/Jan/2024:10:00:00 +0000] "GET /customers/5 HTTP/1.1" 200 10 "-" "Mozilla"'
    good = {"raw_line": line, "client": "1.2.3.4", "ts": "01/Jan/2024:10:00:00 +0000", "method": "GET",
            "path": "/customers/5", "status": "200", "bytes": "10", "referrer": "-", "user_agent": "Mozilla"}
    bot = {**good, "raw_line": line + " ", "path": "/x?part=3", "bytes": "-", "user_agent": "AhrefsBot"}
    bad = {"raw_line": "garbage", "_parse_error": True}
    write_bronze(tmp_path, "logs__web_access", D1, [good, good, bot, bad, {**good, "_source_ref": "other.gz"}])
    report = build(tmp_path, "web_events", D1)
    result = one_day(report)
    keys = ("bronze_rows", "contributing", "exact_duplicates", "quarantined")
    assert [getattr(result, k) for k in keys] == [5, 4, 0, 1]
    assert result.quarantined_by_rule == {"malformed_line": 1} and result.rows == 4
    assert report.quality is None, "web_events has no key, reference or range measures"
    rows = sorted(current_web(tmp_path), key=lambda r: (r["path"], r["_source_ref"]))
    assert [(r["customer_key"], r["part_key"], r["is_bot"], r["bytes"]) for r in rows] == [
        (5, None, False, 10), (5, None, False, 10), (5, None, False, 10), (None, 3, True, None)]
    assert [r["raw_line"] for r in quarantine(tmp_path, "web_events", D1)] == ["garbage"]
    before = contents(tmp_path, "silver", "web_events")
    build(tmp_path, "web_events", D1, run_id="again")
    assert contents(tmp_path, "silver", "web_events") == before


def current_web(root: Path) -> list[dict]:
    """All web_events rows."""
    return pq.read_table(root / "silver" / "web_events").to_pylist()
