"""Silver standardization: exact typed values from padded, lower-case, two-format input; one rule per bad row."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from pyspark.sql import SparkSession

from glue_scripts.common.specs import SILVER_BY_NAME
from glue_scripts.transforms.silver_standardize import conform_raw, number_regex, pattern_regex, standardize
from glue_scripts.transforms.silver_web import conform_logs, standardize_logs

LINEITEM = SILVER_BY_NAME["lineitem"]
GOOD: dict[str, str] = {
    "l_orderkey": "1", "l_partkey": "155190", "l_suppkey": "7706", "l_linenumber": "1", "l_quantity": "17.00",
    "l_extendedprice": "21168.23", "l_discount": "0.04", "l_tax": "0.02", "l_returnflag": "N", "l_linestatus": "O",
    "l_shipdate": "1996-03-13", "l_commitdate": "1996-02-12", "l_receiptdate": "1996-03-22",
    "l_shipinstruct": "DELIVER IN PERSON", "l_shipmode": "TRUCK", "l_comment": "egular courts above the",
    "updated_at": "2024-01-01 10:00:00",
}


def standardized(spark: SparkSession, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run conform + standardize over raw lineitem rows (each a change to GOOD); return them in input order."""
    full = [{**GOOD, **r, "_source_ref": str(i), "_ingestion_date": "2024-01-01", "_record_hash": str(i)}
            for i, r in enumerate(rows)]
    columns = [*GOOD, "_corrupt_record", "_defects", "_source_ref", "_ingestion_date", "_record_hash"]
    schema = ", ".join(f"{c} string" for c in columns)
    df = spark.createDataFrame([tuple(r.get(c) for c in columns) for r in full], schema)
    out = standardize(conform_raw(df.withColumn("drift", df["l_tax"]), LINEITEM), LINEITEM).collect()
    return sorted((r.asDict(recursive=True) for r in out), key=lambda r: int(r["_source_ref"]))


CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({}, []),
    ({"l_orderkey": "  1 ", "l_shipmode": " truck", "l_returnflag": "n", "l_shipdate": "03/13/1996",
      "l_comment": "  free text  ", "l_quantity": " 17 ", "updated_at": " 2024-01-01 10:00:00 "}, []),
    ({"l_orderkey": " "}, ["null_key"]),
    ({"l_linenumber": None}, ["null_key"]),
    ({"l_orderkey": "12abc"}, ["unparseable_number"]),
    ({"l_quantity": "12abc"}, ["unparseable_number"]),
    ({"l_extendedprice": "1.234"}, ["unparseable_number"]),
    ({"l_extendedprice": "99999999999999.99"}, ["unparseable_number"]),
    ({"l_extendedprice": "1e3"}, ["unparseable_number"]),
    ({"l_linenumber": "3000000000"}, ["unparseable_number"]),
    ({"l_partkey": "#VALUE!"}, ["unparseable_number"]),
    ({"l_shipdate": "1996.03.13"}, ["unparseable_date"]),
    ({"l_shipdate": "1996-02-30"}, ["unparseable_date"]),
    ({"l_commitdate": "13/01/1996"}, ["unparseable_date"]),
    ({"l_receiptdate": "1996-03-22x"}, ["unparseable_date"]),
    ({"updated_at": "2024-01-01"}, ["unparseable_date"]),
    ({"l_quantity": "-1"}, ["negative_value"]),
    ({"l_discount": "-0.04", "l_tax": "x"}, ["negative_value", "unparseable_number"]),
    ({"l_returnflag": "X"}, ["unaccepted_value"]),
    ({"l_linestatus": " o ", "l_returnflag": " r"}, []),
    ({"l_linestatus": "OF", "l_quantity": "-2"}, ["negative_value", "unaccepted_value"]),
    ({"l_orderkey": "", "l_quantity": "-1", "_corrupt_record": "1,2,3"}, ["wrong_column_count"]),
    ({"l_shipdate": "", "l_quantity": None}, []),
    ({"l_comment": None, "_defects": "missing_column:l_comment"}, ["missing_column"]),
    ({"l_quantity": "-1", "_defects": "missing_column:l_comment,l_tax"}, ["missing_column", "negative_value"]),
    ({"l_comment": '{"a":1}', "_defects": "not_a_scalar:l_comment"}, ["not_a_scalar"]),
    ({"_corrupt_record": "{not json", "_defects": "invalid_json"}, ["invalid_json"]),
    ({"_corrupt_record": '{"A":1,"a":2}', "_defects": "unusable_key"}, ["unusable_key"]),
    ({"_corrupt_record": "1,2", "_defects": "wrong_column_count;missing_column:l_tax"},
     ["missing_column", "wrong_column_count"]),
]


def test_each_rule_catches_its_row_and_only_it(spark: SparkSession) -> None:
    out = standardized(spark, [c for c, _ in CASES])
    assert [r["_rules"] for r in out] == [rules for _, rules in CASES]


def test_standardized_values_are_exact(spark: SparkSession) -> None:
    plain, varied = standardized(spark, [CASES[0][0], CASES[1][0]])
    assert plain["l_orderkey"] == 1 and plain["l_linenumber"] == 1
    assert plain["l_quantity"] == Decimal("17.00") and plain["l_extendedprice"] == Decimal("21168.23")
    assert plain["l_shipdate"] == dt.date(1996, 3, 13) and plain["_updated_at"] == dt.datetime(2024, 1, 1, 10)
    for column in ("l_orderkey", "l_shipmode", "l_returnflag", "l_shipdate", "l_quantity", "_updated_at"):
        assert varied[column] == plain[column], column
    assert varied["l_comment"] == "  free text  ", "free text must be kept exactly"
    assert varied["_raw"]["l_shipmode"] == " truck", "raw values must be kept for quarantine"
    assert "drift" not in varied


def test_garbage_never_casts_silently(spark: SparkSession) -> None:
    typed = standardized(spark, [c for c, _ in CASES[4:16]])
    assert typed[0]["l_orderkey"] is None and typed[1]["l_quantity"] is None
    assert typed[2]["l_extendedprice"] is None, "1.234 was rounded"
    assert typed[3]["l_extendedprice"] is None and typed[5]["l_linenumber"] is None
    assert all(r["l_shipdate"] is None for r in typed[7:9]) and typed[9]["l_commitdate"] is None


@pytest.mark.parametrize(("value", "ok"), [("12", True), ("-12.5", True), (".5", True), ("12.", True),
                                           ("12.345", False), ("1,5", False), ("12abc", False), ("", False)])
def test_decimal_pattern(value: str, ok: bool) -> None:
    assert bool(re.match(number_regex("decimal(15,2)"), value)) is ok
    assert re.match(pattern_regex("MM/dd/yyyy"), "01/31/2024")
    assert not re.match(pattern_regex("yyyy-MM-dd"), "2024/01/31")


def test_web_events_parsing(spark: SparkSession) -> None:
    rows = [
        ("10/Oct/2023:13:55:36 +0000", "GET", "/customers/42/orders?x=1", "200", "512", "Mozilla/5.0", False),
        ("10/Oct/2023:13:55:37 +0000", "GET", "/search?part=7&customer=9", "404", "-", "Googlebot/2.1", False),
        ("10/Oct/2023:13:55:38 +0000", "GET", "/parts/77", "200", "1", "My-Web-CRAWLER", False),
        (None, None, None, None, None, None, True),
    ]
    data = [(f"line{i}", "1.2.3.4", *r[:5], "-", r[5], r[6], "f", "2024-01-01", f"h{i}") for i, r in enumerate(rows)]
    schema = ("raw_line string, client string, ts string, method string, path string, status string, bytes string, "
              "referrer string, user_agent string, _parse_error boolean, _source_ref string, _ingestion_date string, "
              "_record_hash string")
    events = standardize_logs(conform_logs(spark.createDataFrame(data, schema)))
    out = [r.asDict() for r in events.orderBy("_raw_raw_line").collect()]
    assert out[0]["ts"] == dt.datetime(2023, 10, 10, 13, 55, 36) and out[0]["status"] == 200 and out[0]["bytes"] == 512
    assert (out[0]["customer_key"], out[0]["part_key"], out[0]["is_bot"]) == (42, None, False)
    assert (out[1]["customer_key"], out[1]["part_key"], out[1]["is_bot"], out[1]["bytes"]) == (9, 7, True, None)
    assert (out[2]["customer_key"], out[2]["part_key"], out[2]["is_bot"]) == (None, 77, True)
    assert [r["_rules"] for r in out] == [[], [], [], ["malformed_line"]]
