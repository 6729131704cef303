"""Per-file parsers: standard formats read as the standards say, bounded records, name rules, own record count."""

from __future__ import annotations

import gzip
import io

from glue_scripts.common.names import header_problem, shape
from glue_scripts.common.records import bounded_lines, parse_csv, parse_jsonl, parse_log

REGION = ("r_regionkey", "r_name", "r_comment", "updated_at")


def _csv(text: str | bytes, limit: int = 1 << 20):
    return parse_csv(io.BytesIO(text.encode() if isinstance(text, str) else text), REGION, limit)


def test_csv_bom_stripped_and_quoted_newline_kept_in_its_field() -> None:
    out = _csv(b"\xef\xbb\xbfr_regionkey,r_name,r_comment,updated_at\r\n"
               b'0,AFRICA,"two\r\nlines, ""quoted""",2024-01-01 00:00:00\r\n\r\n1,AMERICA,,x\n')
    assert [r["r_regionkey"] for r in out.rows] == ["0", "1"]
    assert out.rows[0]["r_comment"] == 'two\r\nlines, "quoted"' and out.rows[1]["r_comment"] is None
    assert out.records == 2 and not out.rejected and out.missing == ()
    assert _csv("\n" + "r_regionkey,r_name,r_comment,updated_at\n0,A,c,d\n").records == 1


def test_csv_wrong_count_keeps_raw_text_and_missing_columns_flag_every_row() -> None:
    out = _csv("R_REGIONKEY,r_name,updated_at\n0,AFRICA,d\n1,AMERICA,d,EXTRA\n")
    assert out.missing == ("r_comment",)
    assert [r["_defects"] for r in out.rows] == ["missing_column:r_comment",
                                                 "wrong_column_count;missing_column:r_comment"]
    assert out.rows[1]["_corrupt_record"] == "1,AMERICA,d,EXTRA" and out.rows[0]["r_regionkey"] == "0"


def test_unusable_headers_are_named() -> None:
    assert "collide" in header_problem(["r_regionkey", "R_NAME", "r_name"], REGION)
    assert "collide" in header_problem(["r_regionkey", "r_regionkey"], REGION)
    assert "reserved" in header_problem(["r_regionkey", "_source_file"], REGION)
    assert "letters" in header_problem(["r_regionkey", "p.name"], REGION)
    assert "empty" in header_problem(["r_regionkey", ""], REGION)
    assert "no header row" in header_problem(["0", "AFRICA", "x", "2024-01-01"], REGION)
    assert header_problem(["r_regionkey", "r_extra"], REGION) is None


def test_oversize_lines_are_rejected_with_their_size_and_the_rest_kept() -> None:
    big = "9," + "x" * 5000 + ",c,d\n"
    out = _csv("r_regionkey,r_name,r_comment,updated_at\n0,A,c,d\n" + big + "1,B,c,d\n", limit=1000)
    assert [r["r_regionkey"] for r in out.rows] == ["0", "1"]
    reason = f"record_too_large: {len(big)} bytes over the 1000-byte limit"
    assert out.rejected == [{"line": 3, "bytes": len(big), "reason": reason}]
    assert out.records == 3
    unclosed = _csv('r_regionkey,r_name,r_comment,updated_at\n0,"' + "y\n" * 800 + "", limit=1000)
    assert not unclosed.rows and unclosed.records == 1 and unclosed.rejected[0]["reason"].startswith("record_too_large")


def test_a_gzip_line_of_8_mib_is_read_in_bounded_pieces() -> None:
    good = '10.0.0.1 - - [02/Jan/2024:00:00:01 +0000] "GET / HTTP/1.1" 200 5 "-" "ua"\n'
    data = gzip.compress((good + "a" * (8 << 20) + "\n" + good).encode())
    lines = list(bounded_lines(gzip.GzipFile(fileobj=io.BytesIO(data)), 1 << 20))
    sizes = [(ln.data is None, ln.size) for ln in lines]
    assert sizes == [(False, len(good)), (True, (8 << 20) + 1), (False, len(good))]
    out = parse_log(gzip.GzipFile(fileobj=io.BytesIO(data)))
    assert [r["_parse_error"] for r in out.rows] == [False, False] and out.records == 3
    assert out.rejected[0]["line"] == 2 and out.rejected[0]["bytes"] == (8 << 20) + 1


def test_json_lines_defects() -> None:
    cols = ("s_suppkey", "s_name", "s_comment")
    lines = ['{"s_suppkey": 1, "s_name": {"first": "a"}}', "{not json", "[1, 2]", "[" * 100_000 + "]" * 100_000,
             '{"s_suppkey": 2, "S_NAME": "a", "s_name": "b"}', '{"s_suppkey": 3, "_source_file": "/etc/passwd"}',
             '{"s_suppkey": 4, "s_suppkey": 5}', '{"S_SUPPKEY": 6, "New_Col": true}', "   "]
    out = parse_jsonl(io.BytesIO("\n".join(lines).encode()), cols)
    assert [r["_defects"] for r in out.rows] == ["not_a_scalar:s_name", "invalid_json", "invalid_json", "invalid_json",
                                                 "unusable_key", "unusable_key", "unusable_key", None]
    assert out.rows[0]["s_name"] == '{"first":"a"}' and out.rows[1]["_corrupt_record"] == "{not json"
    assert out.rows[-1] == {"s_suppkey": "6", "new_col": "true", "_corrupt_record": None, "_defects": None}
    assert out.records == 8


def test_shape_maps_case_to_the_spec_and_refuses_collisions() -> None:
    assert shape([("C_NAME", "x"), ("Extra", None)], ("c_name",)) == ({"c_name": "x", "extra": None}, [])
    assert "collide" in shape([("c_name", "x"), ("C_Name", "y")], ("c_name",))
    assert "reserved" in shape([("_record_hash", "x")], ("c_name",))
