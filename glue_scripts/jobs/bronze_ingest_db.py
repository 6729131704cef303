"""Glue job bronze_ingest_db: one watermark window of a database change table → one bronze partition.

Rows outside every window (NULL or non-canonical `updated_at`, see glue_scripts/common/jdbc.py) are extracted
once: by the first run that finds them not yet held by another bronze partition, with the `_source_ref`
OUTSIDE_REF. The job reports the source's total rows up to the window's end and what bronze has seen of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from glue_scripts.common import bronze_arrow, jdbc
from glue_scripts.common.bronze_job import BronzeArgs, bronze_args, bronze_day, bronze_report
from glue_scripts.common.db_source import DbSource, Session, SourceQueryError, SourceUnavailableError
from glue_scripts.common.entry import main, require
from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.common.reports import BronzeDay, BronzeReport, SourceAccounting
from glue_scripts.common.transient import with_source_retry
from glue_scripts.engine.io import file_paths, partition_files

JOB = "bronze_ingest_db"
OUTSIDE_REF = "updated_at outside every window"
__all__ = ["SourceQueryError", "SourceUnavailableError", "run"]


def db_source(url: str, args: dict[str, str], name: str) -> DbSource:
    """The source for `name`: the URL without userinfo, its user and password apart.

    The password comes from the variable `--jdbc_password_env` names, or else from the URL's userinfo.
    """
    bare, user, password = jdbc.split_credentials(url)
    jdbc.dialect_of(bare)
    env = args.get("jdbc_password_env")
    if env and env not in os.environ:
        raise ValueError(f"--jdbc_password_env names {env}, which is not set")
    return DbSource(bare, name, args.get("jdbc_user") or user, os.environ[env] if env else password)


def bronze_history(job: BronzeArgs) -> tuple[set[str], int, int]:
    """The record hashes of the other partitions' outside-window rows, the rows of partitions before the day, and
    the outside-window rows held by later partitions (a day re-run after later days); from the listed files."""
    table = join(job.bronze_path, job.spec.name)
    listing = {day: files for day, files in partition_files(table).items() if day != job.ingestion_date}
    if not listing:
        return set(), 0, 0
    fs, _ = filesystem_for(table)
    paths = {day: [filesystem_for(p)[1] for p in file_paths(table, listing, [day])] for day in listing}
    before = sum(pq.read_metadata(p, filesystem=fs).num_rows for day in listing if day < job.ingestion_date
                 for p in paths[day])
    outside = pc.field("_source_ref") == OUTSIDE_REF
    held = ds.dataset([p for files in paths.values() for p in files], format="parquet", filesystem=fs)
    later = [p for day in listing if day > job.ingestion_date for p in paths[day]]
    later_rows = ds.dataset(later, format="parquet", filesystem=fs).count_rows(filter=outside) if later else 0
    hashes = held.to_table(columns=["_record_hash"], filter=outside).column("_record_hash").to_pylist()
    return set(hashes), before, later_rows


def _extract(
    db: Session, url: str, job: BronzeArgs, ref: str, held: set[str]
) -> tuple[dict[str, int], dict[str, Any], int]:
    """Count at the source, then stream the window's rows and the outside rows not yet held into the partition."""
    spec, (start, end) = job.spec, job.window
    counts = db.counts(jdbc.counts_query(url, spec.entity, start, end))
    stamp = bronze_arrow.Stamp(job.ingestion_date, spec.source, job.run_id)
    schema = stamp.schema(spec.columns)
    new_outside = 0
    held_hashes = pa.array(sorted(held), pa.string())

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal new_outside
        for query, source_ref in ((jdbc.window_query(url, spec.entity, spec.columns, start, end), ref),
                                  (jdbc.outside_query(url, spec.entity, spec.columns), OUTSIDE_REF)):
            for columns in db.stream(query, spec.entity):
                hashes = pa.array(bronze_arrow.column_hashes(columns), pa.string())
                if source_ref == OUTSIDE_REF:
                    new = pc.invert(pc.is_in(hashes, value_set=held_hashes))
                    columns, hashes = [c.filter(new) for c in columns], hashes.filter(new)
                    new_outside += len(hashes)
                if len(hashes):
                    yield stamp.batch(schema, columns, [source_ref] * len(hashes), hashes)

    with closing(batches()) as parts:
        stats = bronze_arrow.write_stream(schema, parts, job.bronze_path, spec.name, job.partition)
    return counts, {**stats, "schema": bronze_arrow.schema_of(schema)}, new_outside


def ingest(job: BronzeArgs, source: DbSource, attempts: int, backoff: float) -> BronzeDay:
    """Extract the partition's window and the rows outside every window not yet in bronze; write the partition."""
    spec = job.spec
    start, end = job.window
    ref = f"{spec.entity} updated_at in [{start}, {end})"
    held, before, later = bronze_history(job)

    def attempt() -> tuple[dict[str, int], dict[str, Any], int]:
        with source.session() as db:
            return _extract(db, source.url, job, ref, held)

    counts, stats, new_outside = with_source_retry(attempt, attempts, backoff)
    source_rows = counts["in_window"] + new_outside
    accounting = SourceAccounting(outside_window_rows=source_rows - counts["in_window"],
                                  source_rows_total=counts["through_window"] + counts["outside"],
                                  bronze_rows_seen=before + stats["rows"] + later)
    return bronze_day(stats, source_rows, ref, stats["schema"], accounting=accounting)


def source_url(args: dict[str, str]) -> str:
    """The JDBC URL: `--jdbc_url`, or the value of the variable `--jdbc_url_env` names (a URL with credentials)."""
    env = args.get("jdbc_url_env")
    if args.get("jdbc_url") or not env:
        return require(args, "jdbc_url")[0]
    if not os.environ.get(env):
        raise ValueError(f"--jdbc_url_env names {env}, which is not set")
    return os.environ[env]


def run(spark: Any, args: dict[str, str]) -> BronzeReport:
    """Ingest `--table` (db__orders|db__lineitem) for `--ingestion_date` (through `--ingestion_date_end`) from
    `--jdbc_url` (or `--jdbc_url_env`) into `--bronze_path`, one watermark window per day; an unreachable source is
    tried `--db_max_attempts` times (default 3) with jittered backoff from `--db_backoff_seconds` (default 2).
    Spark is never used: the rows are read through the database's Python driver and written as Arrow."""
    source = db_source(source_url(args), args, bronze_args(args, JOB).spec.name)
    attempts, backoff = int(args.get("db_max_attempts", "3")), float(args.get("db_backoff_seconds", "2"))
    return bronze_report(args, JOB, lambda job: ingest(job, source, attempts, backoff))


if __name__ == "__main__":
    main(run)
