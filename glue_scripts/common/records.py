"""Per-file parsers for landing files (CSV, JSON Lines, web logs): raw-string records plus what was rejected.

Everything here reads bytes with Python in bounded pieces, so a parse behaves the same whichever engine runs
later, and counts its own records: `records` = rows returned + records rejected, the independent side of
bronze's accounting check. A problem with one record never stops the file; a problem with the file (bad gzip,
invalid UTF-8, unusable header) rejects the file whole.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from glue_scripts.common import names

MAX_RECORD_BYTES = 1 << 20  # the default limit on one line or record; jobs take `--max_record_bytes`
CORRUPT = "_corrupt_record"
DEFECTS = "_defects"
PARSE_ERROR = "_parse_error"
BOM = b"\xef\xbb\xbf"
TOO_LARGE = "record_too_large"
MALFORMED = "malformed_csv_record"

# Combined log format: ip ident user [time] "method path protocol" status bytes "referrer" "user agent".
LOG_PATTERN = (
    r'^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$'
)
LOG_FIELDS: tuple[str, ...] = ("client", "ts", "method", "path", "status", "bytes", "referrer", "user_agent")
_LOG = re.compile(LOG_PATTERN, re.ASCII)

Row = dict[str, "str | bool | None"]


class FileError(Exception):
    """The file as a whole cannot be ingested; the message is the quarantine reason."""


@dataclass
class Parsed:
    """One file's outcome: bronze rows, rejected records ({line, bytes, reason}), spec columns its header lacks."""

    rows: list[Row] = field(default_factory=list)
    rejected: list[dict[str, int | str]] = field(default_factory=list)
    missing: tuple[str, ...] = ()

    @property
    def records(self) -> int:
        """Records the file delivered: rows kept plus records rejected."""
        return len(self.rows) + len(self.rejected)


@dataclass(frozen=True)
class Line:
    """One physical line: its 1-based number, its bytes with terminator (None when over the limit), its size."""

    number: int
    data: bytes | None
    size: int


def bounded_lines(stream: BinaryIO, limit: int) -> Iterator[Line]:
    """The stream's lines, never holding more than `limit` + 1 bytes of one line; a UTF-8 BOM is dropped."""
    number = 0
    while line := stream.readline(limit + 1):
        number += 1
        if number == 1 and line.startswith(BOM):
            line = line[len(BOM):]
        size = len(line)
        if size > limit and not line.endswith(b"\n"):
            while piece := stream.readline(limit + 1):
                size += len(piece)
                if piece.endswith(b"\n"):
                    break
            yield Line(number, None, size)
        else:
            yield Line(number, line, size)


def _text(line: Line) -> str:
    try:
        return line.data.decode("utf-8")  # type: ignore[union-attr]
    except UnicodeDecodeError as exc:
        raise FileError(f"invalid UTF-8 on line {line.number}: {exc.reason}") from None


def _strip(text: str) -> str:
    return text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith(("\n", "\r")) else text


def _too_large(number: int, size: int, limit: int) -> dict[str, int | str]:
    return {"line": number, "bytes": size, "reason": f"{TOO_LARGE}: {size} bytes over the {limit}-byte limit"}


class _Oversize(Exception):
    def __init__(self, line: Line) -> None:
        self.line = line


class _CsvLines:
    """Decoded lines for csv.reader that remember which lines the current record consumed."""

    def __init__(self, lines: Iterator[Line]) -> None:
        self.lines = lines
        self.taken: list[Line] = []

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        if line.data is None:
            raise _Oversize(line)
        self.taken.append(line)
        return _text(line)

    def record(self) -> tuple[int, int, str]:
        """(first line number, bytes, raw text) of the lines taken since the last call."""
        taken, self.taken = self.taken, []
        text = "".join(t.data.decode("utf-8") for t in taken)  # type: ignore[union-attr]
        return (taken[0].number if taken else 0), sum(t.size for t in taken), _strip(text)


def parse_csv(stream: BinaryIO, columns: Sequence[str], limit: int = MAX_RECORD_BYTES) -> Parsed:
    """RFC 4180 CSV with a header row: one row per record, quoted newlines kept inside their field.

    A record whose field count differs from the header keeps its raw text in `_corrupt_record`
    (`wrong_column_count`); spec columns missing from the header are listed on every row (`missing_column`).
    """
    csv.field_size_limit(max(limit, csv.field_size_limit()))
    source = _CsvLines(bounded_lines(stream, limit))
    reader = csv.reader(source, strict=False)
    out = Parsed()
    header: list[str] | None = None
    defects: list[str] = []
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return out
        except _Oversize as exc:
            number, size, _ = source.record()
            out.rejected.append(_too_large(number or exc.line.number, size + exc.line.size, limit))
            continue
        except csv.Error as exc:
            number, size, _ = source.record()
            out.rejected.append({"line": number, "bytes": size, "reason": f"{MALFORMED}: {exc}"})
            continue
        number, size, text = source.record()
        if not fields:
            continue
        if header is None:
            problem = names.header_problem(fields, columns)
            if problem:
                raise FileError(problem)
            header = [names.canonical(n, columns) for n in fields]
            out.missing = tuple(c for c in columns if c not in header)
            defects = [f"missing_column:{','.join(out.missing)}"] if out.missing else []
            continue
        if size > limit:
            out.rejected.append(_too_large(number, size, limit))
            continue
        row: Row = {n: (v if v != "" else None) for n, v in zip(header, fields)}
        row[DEFECTS] = ";".join(defects) or None
        if len(fields) != len(header):
            row[CORRUPT] = text
            row[DEFECTS] = ";".join(["wrong_column_count", *defects])
        out.rows.append(row)


def parse_jsonl(stream: BinaryIO, columns: Sequence[str], limit: int = MAX_RECORD_BYTES) -> Parsed:
    """JSON Lines: one row per non-blank line, every value as its raw text.

    A line that is not a JSON object (or nests too deep to parse) is kept in `_corrupt_record` as
    `invalid_json`; one with unusable keys as `unusable_key`; nested values in spec columns flag `not_a_scalar`.
    """
    out = Parsed()
    for text in _texts(stream, limit, out):
        if text.strip():
            out.rows.append(json_row(text, columns))
    return out


def _texts(stream: BinaryIO, limit: int, out: Parsed) -> Iterator[str]:
    """The text of each line within `limit`; a longer line goes to `out.rejected` with its size instead."""
    for line in bounded_lines(stream, limit):
        if line.data is None:
            out.rejected.append(_too_large(line.number, line.size, limit))
            continue
        yield _strip(_text(line))


class _Object(list):
    """A JSON object as its (key, value) pairs in order, duplicates kept."""


def json_row(text: str, columns: Sequence[str]) -> Row:
    """One JSON Lines record as a bronze row of raw strings, or the text in `_corrupt_record` with its defect."""
    try:
        value = json.loads(text, object_pairs_hook=_Object, parse_float=str, parse_int=str, parse_constant=str)
        shaped = names.shape(((k, _plain(v)) for k, v in value), columns) if isinstance(value, _Object) else None
    except (ValueError, RecursionError):
        shaped = None
    if shaped is None:
        return {CORRUPT: text, DEFECTS: "invalid_json"}
    if isinstance(shaped, str):
        return {CORRUPT: text, DEFECTS: names.UNUSABLE_KEY}
    values, defects = shaped
    return {**values, CORRUPT: None, DEFECTS: ";".join(defects) or None}


def _plain(value: object) -> object:
    """A parsed value with objects turned back into dicts (last key wins; collisions were refused before)."""
    if isinstance(value, _Object):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse_log(stream: BinaryIO, limit: int = MAX_RECORD_BYTES) -> Parsed:
    """Web access log lines: raw_line, the combined-log fields (None when the line does not match), `_parse_error`."""
    out = Parsed()
    for text in _texts(stream, limit, out):
        match = _LOG.match(text)
        row: Row = {"raw_line": text, **dict(zip(LOG_FIELDS, match.groups() if match else [None] * len(LOG_FIELDS)))}
        row[PARSE_ERROR] = match is None
        out.rows.append(row)
    return out

