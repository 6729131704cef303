"""The bronze floor's readers: each simulated source read the cheapest way into Arrow, every value a raw string.

Every reader returns the bronze data columns of one table and day plus `_source_ref`. They cover what the
simulated world delivers (header drift, wrong column counts, a truncated gzip, API paging and its seeded errors),
not the pipeline's hostile-input handling (oversized records, bad headers, invalid JSON lines), and share no code
with the bronze jobs: the database through sqlite3 in batches, the API page by page over HTTP, CSV and JSON Lines
through pyarrow's multi-threaded readers, the logs through zlib and a vectorized regex in DuckDB.
"""

from __future__ import annotations

import csv
import gzip
import json
import sqlite3
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import requests

from glue_scripts.common.records import LOG_FIELDS, LOG_PATTERN

REF = "_source_ref"
CORRUPT = "_corrupt_record"
DEFECTS = "_defects"
PARSE_ERROR = "_parse_error"
OUTSIDE_REF = "updated_at outside every window"
FIRST_PAGE = "initial"
DB_BATCH_ROWS = 100_000
API_PAGE_SIZE = 1000
API_ATTEMPTS = 20
# Python's ASCII \S (what the pipeline's parser uses) as an RE2 class: RE2's \s lacks the vertical tab.
LOG_PATTERN_RE2 = LOG_PATTERN.replace(r"\S", r"[^ \t\n\r\f\v]")
CANONICAL = "updated_at IS NOT NULL AND datetime(updated_at) IS updated_at"


def _strings(columns: Sequence[Sequence[str | None]], names: Sequence[str]) -> pa.Table:
    return pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, columns)})


def db_day(db_path: Path, table: str, columns: Sequence[str], day: str, end: str, outside: bool) -> pa.RecordBatchReader:
    """A day's watermark window [day, end) of a SQLite change table (and, when `outside`, the rows no window holds)."""
    names = [*columns, REF]
    schema = pa.schema([(n, pa.string()) for n in names])
    select = ", ".join(f'"{c}"' for c in columns)
    queries = [(f"SELECT {select} FROM {table} WHERE {CANONICAL} AND updated_at >= ? AND updated_at < ?",
                (f"{day} 00:00:00", f"{end} 00:00:00"), f"{table} updated_at in [{day} 00:00:00, {end} 00:00:00)")]
    if outside:
        queries.append((f"SELECT {select} FROM {table} WHERE NOT ({CANONICAL})", (), OUTSIDE_REF))

    def batches() -> Iterator[pa.RecordBatch]:
        # DuckDB pulls the batches from its own threads, one at a time.
        with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)) as conn:
            for sql, params, ref in queries:
                cur = conn.execute(sql, params)
                while rows := cur.fetchmany(DB_BATCH_ROWS):
                    values = [pa.array(c, pa.string()) for c in zip(*rows)]
                    yield pa.RecordBatch.from_arrays([*values, pa.array([ref] * len(rows), pa.string())], schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def _get(session: requests.Session, url: str, params: dict[str, str | int], token: str) -> str:
    """One page's body; a seeded 5xx is asked again at once, a 429 after its Retry-After."""
    for _ in range(API_ATTEMPTS):
        response = session.get(url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if response.status_code == 429:
            time.sleep(float(response.headers.get("Retry-After", "1")))
        elif response.status_code < 500:
            response.raise_for_status()
            return response.text
    raise RuntimeError(f"bronze floor: GET {url} failed {API_ATTEMPTS} times")


def api_day(base_url: str, token: str, path: str, columns: Sequence[str], day: str, end: str) -> pa.Table:
    """The records modified in [day, end), every page fetched once; numbers keep their text, the cursor is the ref."""
    values: list[list[str | None]] = [[] for _ in columns]
    refs: list[str] = []
    cursor: str | None = None
    with requests.Session() as session:
        while True:
            params = {"updated_since": f"{day} 00:00:00", "updated_until": f"{end} 00:00:00", "limit": API_PAGE_SIZE,
                      **({"cursor": cursor} if cursor else {})}
            body = json.loads(_get(session, base_url.rstrip("/") + path, params, token), parse_float=str, parse_int=str)
            for record in body["data"]:
                for i, column in enumerate(columns):
                    values[i].append(record.get(column))
            refs.extend([cursor or FIRST_PAGE] * len(body["data"]))
            cursor = body["next_cursor"]
            if cursor is None:
                return _strings([*values, refs], [*columns, REF])


def landing_files(folder: Path, suffix: str) -> list[Path]:
    """The files a landing partition delivers with `suffix`, by name (hidden names skipped)."""
    return sorted(p for p in folder.glob(f"*{suffix}") if p.is_file() and not p.name.startswith((".", "_")))


def _with(table: pa.Table, name: str, value: str | None) -> pa.Table:
    return table.append_column(name, pa.array([value] * table.num_rows, pa.string()))


def csv_file(path: Path, columns: Sequence[str]) -> tuple[pa.Table, list[str]]:
    """One CSV drop as spec columns, extra header columns (sorted), `_corrupt_record`, `_defects` and the ref; also
    the extra columns. A record with the wrong number of fields keeps the header's share of its fields and its text."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = [n.lower() for n in next(csv.reader(handle))]
    extras = sorted(n for n in header if n not in columns)
    missing = [c for c in columns if c not in header]
    defects = f"missing_column:{','.join(missing)}" if missing else None
    bad: list[str] = []

    def invalid(row: pa_csv.InvalidRow) -> str:
        bad.append(row.text)
        return "skip"

    table = pa_csv.read_csv(path, read_options=pa_csv.ReadOptions(column_names=header, skip_rows=1),
                            parse_options=pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=invalid),
                            convert_options=pa_csv.ConvertOptions(column_types={n: pa.string() for n in header},
                                                                  strings_can_be_null=True, null_values=[""]))
    fields = [dict(zip(header, (v or None for v in next(csv.reader([text]))))) for text in bad]
    wrong = ";".join(["wrong_column_count", *([defects] if defects else [])])
    corrupt = _strings([*([f.get(n) for f in fields] for n in header), bad, [wrong] * len(bad)], [*header, CORRUPT, DEFECTS])
    table = _with(_with(table, CORRUPT, None), DEFECTS, defects)
    whole = pa.concat_tables([table, corrupt])
    for column in missing:
        whole = _with(whole, column, None)
    return _with(whole.select([*columns, *extras, CORRUPT, DEFECTS]), REF, str(path)), extras


def jsonl_file(path: Path, columns: Sequence[str]) -> pa.Table:
    """One JSON Lines drop as spec columns (a missing key is NULL), `_corrupt_record`, `_defects` and the ref."""
    schema = pa.schema([(c, pa.string()) for c in columns])
    table = pa_json.read_json(path, parse_options=pa_json.ParseOptions(explicit_schema=schema,
                                                                       unexpected_field_behavior="error"))
    return _with(_with(_with(table, CORRUPT, None), DEFECTS, None), REF, str(path))


def log_lines(path: Path) -> pa.Table | None:
    """The lines of one gzip log file (terminators and a BOM dropped) with the ref; None when it cannot be read
    whole (the truncated file), as the pipeline quarantines it."""
    try:
        text = gzip.decompress(path.read_bytes()).decode("utf-8").removeprefix("\ufeff")
    except (EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError):
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    raw = pc.replace_substring_regex(pa.array(lines, pa.string()), "\r$", "")
    return pa.table({"raw_line": raw, REF: pa.array([str(path)] * len(lines), pa.string())})


def parse_logs(con: duckdb.DuckDBPyConnection, lines: pa.Table) -> pa.Table:
    """raw_line, the combined-log fields (NULL when the line does not match) and `_parse_error`, with the ref."""
    con.register("log_lines", lines)
    pattern = "'" + LOG_PATTERN_RE2.replace("'", "''") + "'"
    names = ", ".join(f"'{f}'" for f in LOG_FIELDS)
    fields = ", ".join(f"CASE WHEN matched THEN m.{f} END AS {f}" for f in LOG_FIELDS)
    parsed = con.sql(f"""SELECT raw_line, {fields}, NOT matched AS {PARSE_ERROR}, {REF} FROM (
        SELECT raw_line, {REF}, regexp_full_match(raw_line, {pattern}) AS matched,
               regexp_extract(raw_line, {pattern}, [{names}]) AS m FROM log_lines)""").to_arrow_table()
    con.unregister("log_lines")
    return parsed
