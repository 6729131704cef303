"""Silver standardization: exact typed values from padded, lower-case, two-format input; one rule per bad row."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from glue_scripts.common.specs import SILVER_BY_NAME
from glue_scripts.common.writer import write_arrow
from glue_scripts.engine import Engine, make_engine
from glue_scripts.engine.io import register_present
from glue_scripts.transforms.silver_standardize import (
    bronze_inputs, conform_sql, number_regex, pattern_regex, standardize_sql,
)
from glue_scripts.transforms.silver_web import bronze_log_inputs, conform_logs_sql, standardize_logs_sql

UTC = dt.timezone.utc

LINEITEM = SILVER_BY_NAME["lineitem"]
GOOD: dict[str, str] = {
    "l_orderkey": "1", "l_partkey": "155190", "l_suppkey": "7706", "l_linenumber": "1", "l_quantity": "17.00",
    "l_extendedprice": "21168.23", "l_discount": "0.04", "l_tax": "0.02", "l_returnflag": "N", "l_linestatus": "O",
    "l_shipdate": "1996-03-13", "l_commitdate": "1996-02-12", "l_receiptdate": "1996-03-22",
    "l_shipinstruct": "DELIVER IN PERSON", "l_shipmode": "TRUCK", "l_comment": "egular courts above the",
    "updated_at": "2024-01-01 10:00:00",
}


def _relation(engine: Engine, folder: Path, rows: list[dict[str, Any]], wanted: dict[str, str]) -> tuple[str, set[str]]:
    """Rows (strings unless `wanted` says boolean) written as one Parquet partition and registered on `engine`."""
    names = list(dict.fromkeys(k for r in rows for k in r))
    schema = pa.schema([(n, pa.bool_() if wanted.get(n) == "boolean" else pa.string()) for n in names])
    write_arrow(pa.Table.from_pylist(rows, schema), str(folder), "ingestion_date=2024-01-01")
    return register_present(engine, "input", str(folder), "2024-01-01", wanted)


def standardized(engine: Engine, folder: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run conform + standardize over raw lineitem rows (each a change to GOOD) on `engine`, in input order."""
    full = [{**GOOD, "_corrupt_record": None, "_defects": None, **r, "_source_ref": str(i),
             "_ingestion_date": "2024-01-01", "_record_hash": str(i)} for i, r in enumerate(rows)]
    full = [{**r, "drift": r["l_tax"]} for r in full]
    source, present = _relation(engine, folder, full, {c: "string" for c in (*bronze_inputs(LINEITEM), "drift")})
    out = engine.rows(standardize_sql(LINEITEM, f"({conform_sql(LINEITEM, source, present)}) AS c"))
    return sorted(out, key=lambda r: int(r["_source_ref"]))


@pytest.fixture()
def duck() -> Engine:
    """A fresh DuckDB engine."""
    return make_engine("duckdb")


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


def test_each_rule_catches_its_row_and_only_it(duck: Engine, tmp_path: Path) -> None:
    out = standardized(duck, tmp_path, [c for c, _ in CASES])
    assert [r["_rules"] for r in out] == [rules for _, rules in CASES]


def test_standardized_values_are_exact(duck: Engine, tmp_path: Path) -> None:
    plain, varied = standardized(duck, tmp_path, [CASES[0][0], CASES[1][0]])
    assert plain["l_orderkey"] == 1 and plain["l_linenumber"] == 1
    assert plain["l_quantity"] == Decimal("17.00") and plain["l_extendedprice"] == Decimal("21168.23")
    assert plain["l_shipdate"] == dt.date(1996, 3, 13) and plain["_updated_at"] == dt.datetime(2024, 1, 1, 10, tzinfo=UTC)
    for column in ("l_orderkey", "l_shipmode", "l_returnflag", "l_shipdate", "l_quantity", "_updated_at"):
        assert varied[column] == plain[column], column
    assert varied["l_comment"] == "  free text  ", "free text must be kept exactly"
    assert varied["_raw_l_shipmode"] == " truck", "raw values must be kept for quarantine"
    assert "drift" not in varied


def test_garbage_never_casts_silently(duck: Engine, tmp_path: Path) -> None:
    typed = standardized(duck, tmp_path, [c for c, _ in CASES[4:16]])
    assert typed[0]["l_orderkey"] is None and typed[1]["l_quantity"] is None
    assert typed[2]["l_extendedprice"] is None, "1.234 was rounded"
    assert typed[3]["l_extendedprice"] is None and typed[5]["l_linenumber"] is None
    assert all(r["l_shipdate"] is None for r in typed[7:9]) and typed[9]["l_commitdate"] is None


@pytest.mark.parametrize(("value", "ok"), [("12", True), ("-12.5", True), (".5", True), ("12.", True),
                                           ("12.345", False), ("1,5", False), ("12abc", False), ("", False)])
def test_decimal_pattern(value: str, ok: bool) -> None:
    def matches(pattern: str, text: str) -> bool:
        return duckdb.execute("SELECT regexp_matches(?, ?)", [text, pattern]).fetchone()[0]

    assert matches(number_regex("decimal(15,2)"), value) is ok
    assert not matches(number_regex("decimal(15,2)"), value + "\n"), "a trailing newline must not pass"
    assert matches(pattern_regex("MM/dd/yyyy"), "01/31/2024")
    assert not matches(pattern_regex("yyyy-MM-dd"), "2024/01/31") and not matches(pattern_regex("MM/dd/yyyy"), "13/01/2024")


def web_events(engine: Engine, folder: Path, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Parse log rows (ts, method, path, status, bytes, user agent, parse error) on `engine`, in input order."""
    names = ("ts", "method", "path", "status", "bytes", "user_agent", "_parse_error")
    data = [{"raw_line": f"line{i}", "client": "1.2.3.4", **dict(zip(names, r)), "referrer": "-", "_source_ref": "f",
             "_ingestion_date": "2024-01-01", "_record_hash": f"h{i}"} for i, r in enumerate(rows)]
    wanted = {c: "boolean" if c == "_parse_error" else "string" for c in bronze_log_inputs()}
    source, present = _relation(engine, folder, data, wanted)
    out = engine.rows(standardize_logs_sql(f"({conform_logs_sql(source, present)}) AS c"))
    return sorted(out, key=lambda r: int(r["_raw_raw_line"][4:]))


WEB_ROWS: list[tuple[Any, ...]] = [
    ("10/Oct/2023:13:55:36 +0000", "GET", "/customers/42/orders?x=1", "200", "512", "Mozilla/5.0", False),
    ("10/Oct/2023:13:55:37 +0000", "GET", "/search?part=7&customer=9", "404", "-", "Googlebot/2.1", False),
    ("10/oct/2023:13:55:38 +0130", "GET", "/parts/77", "200", "1", "My-Web-CRAWLER", False),
    (None, None, None, None, None, None, True),
    ("31/Feb/2023:13:55:38 +0000", "GET", "/parts/7x", "2000000000", "1", None, False),
    ("10/Oct/2023:13:55:36 +0000\n", "GET", "/customers/5\n", "200\n", "1", "bot", False),
]


def test_web_events_parsing(duck: Engine, tmp_path: Path) -> None:
    out = web_events(duck, tmp_path, WEB_ROWS)
    assert out[0]["ts"] == dt.datetime(2023, 10, 10, 13, 55, 36, tzinfo=UTC) and out[0]["status"] == 200
    assert (out[0]["customer_key"], out[0]["part_key"], out[0]["is_bot"], out[0]["bytes"]) == (42, None, False, 512)
    assert (out[1]["customer_key"], out[1]["part_key"], out[1]["is_bot"], out[1]["bytes"]) == (9, 7, True, None)
    assert (out[2]["customer_key"], out[2]["part_key"], out[2]["is_bot"]) == (None, 77, True)
    assert out[2]["ts"] == dt.datetime(2023, 10, 10, 12, 25, 38, tzinfo=UTC), "offset +0130 and a lower-case month"
    assert (out[4]["ts"], out[4]["part_key"], out[4]["status"]) == (None, None, None)
    assert out[5]["customer_key"] is None and out[5]["ts"] is None, "a trailing newline is not the end of a value"
    bad = ["unparseable_date", "unparseable_number"]
    assert [r["_rules"] for r in out] == [[], [], [], ["malformed_line"], bad, bad]
