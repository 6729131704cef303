"""bronze_ingest_logs: combined-log lines parsed, malformed lines flagged, truncated gzip quarantined."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from pyspark.sql import SparkSession

from glue_scripts.common.specs import LOG_COLUMNS
from glue_scripts.jobs.bronze_ingest_logs import run
from lakehouse_tests.glue_scripts.helpers import DAY, job_args, land, one_day, read_partition

GOOD = [
    '10.0.0.1 - - [02/Jan/2024:00:00:01 +0000] "GET /customers/42?part=7 HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11)"',
    '10.0.0.2 - - [02/Jan/2024:00:10:00 +0000] "POST /parts/9 HTTP/1.1" 404 - "https://ex.com/a?customer=3" "Googlebot/2.1"',
]
BAD = ["this is not a log line", '10.0.0.3 - - [02/Jan/2024:00:11:00 +0000] "GET /x HTTP/1.1" 2OO 1 "-" "ua"']


def test_logs_parsed_flagged_and_truncated_gzip_quarantined(spark: SparkSession, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    land(landing, "logs", "web_access", "access-00.log.gz", gzip.compress(("\n".join(GOOD) + "\n").encode()))
    land(landing, "logs", "web_access", "access-01.log.gz", gzip.compress(("\n".join(BAD) + "\n").encode()))
    whole = gzip.compress(("\n".join(GOOD * 50) + "\n").encode())
    land(landing, "logs", "web_access", "access-02.log.gz", whole[: len(whole) // 2])
    result = one_day(run(spark, job_args(tmp_path, "logs__web_access")))
    df = read_partition(spark, tmp_path, "logs__web_access")
    assert df.columns[: len(LOG_COLUMNS)] == list(LOG_COLUMNS)
    rows = {r["raw_line"]: r for r in df.collect()}
    assert set(rows) == set(GOOD + BAD)
    first = rows[GOOD[0]]
    assert (first.client, first.ts, first.method, first.path) == (
        "10.0.0.1", "02/Jan/2024:00:00:01 +0000", "GET", "/customers/42?part=7"
    )
    assert (first.status, first.bytes, first.referrer, first.user_agent) == ("200", "512", "-", "Mozilla/5.0 (X11)")
    assert rows[GOOD[1]]["bytes"] == "-" and rows[GOOD[1]]["referrer"] == "https://ex.com/a?customer=3"
    assert not first._parse_error and not rows[GOOD[1]]["_parse_error"]
    for line in BAD:
        assert rows[line]["_parse_error"] is True
        assert all(rows[line][f] is None for f in ("client", "ts", "method", "path", "status", "user_agent"))
    assert result.landing.parse_failures == 2
    assert result.rows == result.source_rows == 4
    assert [c.path.rsplit("/", 1)[-1] for c in result.corrupt_files] == ["access-02.log.gz"]
    assert "gzip" in result.corrupt_files[0].reason
    qdir = tmp_path / "quarantine" / "_files" / "logs__web_access" / f"ingestion_date={DAY}"
    assert (qdir / "access-02.log.gz").stat().st_size == len(whole) // 2
    assert "gzip" in json.loads((qdir / "access-02.log.gz.reason.json").read_text())["reason"]
    assert {r["_source_system"] for r in rows.values()} == {"logs"}
