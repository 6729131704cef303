"""One landing-zone partition (file drops or web logs) → one bronze partition, file by file, in Python.

Each listed file is parsed on its own: a file that cannot be read goes to `quarantine/_files` and the
others are ingested. The result carries the independent record count (`records_read`, counted by the
parsers) that bronze's `records_accounted_for` check compares with the rows read back from Parquet.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from typing import BinaryIO

from glue_scripts.common import bronze_arrow
from glue_scripts.common.bronze_job import BronzeArgs, bronze_day, landing_ref
from glue_scripts.common.fs import join
from glue_scripts.common.landing import LandingFile, Quarantine, list_files, open_file
from glue_scripts.common.records import (
    CORRUPT, DEFECTS, MAX_RECORD_BYTES, FileError, Parsed, parse_csv, parse_jsonl, parse_log,
)
from glue_scripts.common.reports import BronzeDay, FileNote, LandingCounts, MissingColumns, RejectedRecord

LISTED_REJECTS = 100  # rejected records named in the result; the counts are always exact

Parser = Callable[[BinaryIO], Parsed]


def _parser(job: BronzeArgs, limit: int) -> tuple[tuple[str, ...], Parser, tuple[str, ...], bool]:
    """(suffixes taken, parser, internal columns written, gzipped) for the job's table format."""
    spec = job.spec
    if spec.fmt == "log":
        return (".log.gz",), lambda s: parse_log(s, limit), (), True
    parse = parse_csv if spec.fmt == "csv" else parse_jsonl
    return (f".{spec.fmt}",), lambda s: parse(s, spec.columns, limit), (CORRUPT, DEFECTS), False


def read_one(file: LandingFile, parse: Parser, gzipped: bool) -> Parsed | str:
    """Parse one file whole, or the reason it cannot be ingested."""
    try:
        with open_file(file) as raw:
            return parse(gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw)  # type: ignore[arg-type]
    except FileError as exc:
        return str(exc)
    except (zlib.error, EOFError, gzip.BadGzipFile) as exc:
        return f"unreadable gzip: {exc}"
    except OSError as exc:
        return f"unreadable file: {exc}"


def ingest(job: BronzeArgs, landing_path: str, limit: int = MAX_RECORD_BYTES) -> BronzeDay:
    """List, parse, quarantine, stamp and write one partition; return its report."""
    spec = job.spec
    folder = join(landing_path, spec.source, spec.entity, job.partition)
    suffixes, parse, internal, gzipped = _parser(job, limit)
    listing = list_files(folder, suffixes)
    quarantine = Quarantine(job.quarantine_path, spec.name, job.partition, job.run_id)
    corrupt = list(listing.refused)
    for entry in listing.refused:
        quarantine.refuse(entry)
    kept: list[tuple[LandingFile, Parsed]] = []
    for file in listing.files:
        outcome = read_one(file, parse, gzipped)
        if isinstance(outcome, str):
            quarantine.reject_file(file, outcome)
            corrupt.append({"path": file.uri, "reason": outcome})
            continue
        if outcome.rejected:
            quarantine.reject_records(file, outcome.rejected)
        kept.append((file, outcome))
    rows, refs = bronze_arrow.flatten((f.uri, p.rows) for f, p in kept)
    table = bronze_arrow.bronze_table(rows, refs, spec.columns, internal, ingestion_date=job.ingestion_date,
                                      source_system=spec.source, run_id=job.run_id)
    stats = bronze_arrow.write(table, job.bronze_path, spec.name, job.partition)
    quarantine.commit()
    rejected = [RejectedRecord(f.uri, int(r["line"]), int(r["bytes"]), str(r["reason"])) for f, p in kept
                for r in p.rejected]
    landing = LandingCounts(
        files_read=len(kept),
        records_read=sum(p.records for _, p in kept),
        records_rejected=len(rejected),
        rejected_records=tuple(rejected[:LISTED_REJECTS]),
        skipped_names=tuple(FileNote(e["path"], e["reason"]) for e in listing.skipped),
        missing_columns=tuple(MissingColumns(f.uri, tuple(p.missing)) for f, p in kept if p.missing),
        parse_failures=sum(1 for r in rows if r.get("_parse_error")),
    )
    return bronze_day(stats, len(rows), landing_ref(listing.files, folder, corrupt), bronze_arrow.schema_of(table),
                      corrupt, landing=landing)


def record_limit(args: dict[str, str]) -> int:
    """`--max_record_bytes` (a positive integer), else MAX_RECORD_BYTES."""
    value = args.get("max_record_bytes") or str(MAX_RECORD_BYTES)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"--max_record_bytes must be a positive integer, got {value!r}")
    return int(value)
