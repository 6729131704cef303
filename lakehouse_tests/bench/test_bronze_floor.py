"""The bronze floor's readers and record hash agree with the pipeline's bronze parsers on small, awkward inputs."""

import gzip
import io
from pathlib import Path

import duckdb
import pyarrow as pa

from glue_scripts.common.bronze_arrow import record_hash
from glue_scripts.common.records import CORRUPT, DEFECTS, parse_csv, parse_log
from lakehouse.bench import floor_sources as read
from lakehouse.bench.bronze_floor import record_hash_sql

COLUMNS = ("k", "name", "updated_at")
CSV = ('k,name,updated_at,origin\n1,"a, b",2024-01-01 00:00:00,X\n2,,2024-01-01 00:00:01,\n'
       '3,"line\nbreak",2024-01-01 00:00:02,Y\n4,q,2024-01-01 00:00:03,Z,EXTRA\n5, padded ,2024-01-01 00:00:04,W\n')
LOG = ('1.2.3.4 - - [01/Jan/2024:00:00:01 +0000] "GET /parts/7 HTTP/1.1" 200 512 "" "Mozilla/5.0"\r\n'
       "-- connection reset --\n"
       '5.6.7.8 - - [01/Jan/2024:00:00:02 +0000] "POST /cart/add?customer=3&part=9 HTTP/1.1" 304 - "-" "bot"\n')


def _sorted(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: str(sorted((k, str(v)) for k, v in r.items())))


def test_record_hash_equals_the_pipelines() -> None:
    rows = [{"a": "1", "b": None, "c": "é|x", "extra": None}, {"a": "\\N", "b": "", "c": "2:ab", "extra": "set"},
            {"a": None, "b": None, "c": None, "extra": "ü"}]
    con = duckdb.connect()
    con.register("t", pa.Table.from_pylist(rows))
    got = [r[0] for r in con.execute(f"SELECT {record_hash_sql(('a', 'b', 'c'), ('extra',))} FROM t").fetchall()]
    assert got == [record_hash(r, ("a", "b", "c"), ("extra",)) for r in rows]


def test_csv_rows_equal_the_pipelines_parser(tmp_path: Path) -> None:
    path = tmp_path / "drop.csv"
    path.write_text(CSV)
    table, extras = read.csv_file(path, COLUMNS)
    assert extras == ["origin"]
    expected = [{**{c: r.get(c) for c in (*COLUMNS, "origin", CORRUPT, DEFECTS)}, read.REF: str(path)}
                for r in parse_csv(io.BytesIO(CSV.encode()), COLUMNS).rows]
    assert _sorted(table.to_pylist()) == _sorted(expected)
    assert [r[CORRUPT] for r in table.to_pylist() if r[CORRUPT]] == ["4,q,2024-01-01 00:00:03,Z,EXTRA"]


def test_log_lines_equal_the_pipelines_parser(tmp_path: Path) -> None:
    path = tmp_path / "access-00.log.gz"
    path.write_bytes(gzip.compress(LOG.encode()))
    parsed = read.parse_logs(duckdb.connect(), read.log_lines(path))
    expected = [{**r, read.REF: str(path)} for r in parse_log(io.BytesIO(LOG.encode())).rows]
    assert parsed.to_pylist() == expected
    assert [r["_parse_error"] for r in expected] == [False, True, False]


def test_a_truncated_log_file_is_left_out(tmp_path: Path) -> None:
    data = gzip.compress(LOG.encode() * 50)
    path = tmp_path / "access-01.log.gz"
    path.write_bytes(data[: len(data) // 2])
    assert read.log_lines(path) is None
