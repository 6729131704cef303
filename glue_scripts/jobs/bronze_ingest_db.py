"""Glue job bronze_ingest_db: one watermark window of a database change table → one bronze partition.

Rows outside every window (NULL or non-canonical `updated_at`, see glue_scripts/common/jdbc.py) are extracted
once: by the first run that finds them not yet held by another bronze partition, with the `_source_ref`
OUTSIDE_REF. The job reports the source's total rows up to the window's end and what bronze has seen of them.
"""

from __future__ import annotations

import os
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_scripts.common import jdbc
from glue_scripts.common.bronze_job import BronzeArgs, bronze_args, write_bronze
from glue_scripts.common.days import over_days
from glue_scripts.common.entry import main, require
from glue_scripts.common.fs import join
from glue_scripts.common.redact import redact
from glue_scripts.common.transient import TransientSourceError, with_source_retry
from glue_scripts.transforms.quality import read_table

JOB = "bronze_ingest_db"
OUTSIDE_REF = "updated_at outside every window"


class SourceUnavailableError(TransientSourceError):
    """The source database could not be reached (refused, timed out, busy): worth trying again later."""


class SourceQueryError(RuntimeError):
    """The source database answered but the query failed (a missing table or column): retrying will not help."""


# Driver messages of a connection that failed rather than a query the database refused.
CONNECTION_FAILURES = ("connection", "connect", "timed out", "timeout", "sqlite_busy", "database is locked",
                       "the connection attempt failed", "i/o error")


def jdbc_properties(url: str, args: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The URL the driver gets (userinfo removed) and its driver, user and password properties.

    The password comes from the variable `--jdbc_password_env` names, or else from the URL's userinfo.
    """
    bare, user, password = jdbc.split_credentials(url)
    props = {"driver": jdbc.driver_for(bare)}
    if args.get("jdbc_user") or user:
        props["user"] = args.get("jdbc_user") or user
    env = args.get("jdbc_password_env")
    if env and env not in os.environ:
        raise ValueError(f"--jdbc_password_env names {env}, which is not set")
    if env or password:
        props["password"] = os.environ[env] if env else password
    return bare, props


def _check_reachable(url: str, source: str) -> None:
    """SQLite silently creates a missing database file; treat a missing file as unreachable instead."""
    if url.startswith("jdbc:sqlite:"):
        path = url.removeprefix("jdbc:sqlite:").split("?", 1)[0].removeprefix("file:")
        if path and path != ":memory:" and not os.path.isfile(path):
            raise SourceUnavailableError(f"source {source} unreachable: SQLite database {path} does not exist")


def _cause(exc: BaseException) -> str:
    java = getattr(exc, "java_exception", None)
    text = str(java) if java is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def read_source(spark: SparkSession, job: BronzeArgs, url: str, props: dict[str, str]) -> tuple[DataFrame, DataFrame, dict[str, int]]:
    """The window's rows, the rows outside every window, and the source's counts; failures name source and cause."""
    spec = job.spec
    start, end = job.window

    def read(query: str) -> DataFrame:
        return spark.read.jdbc(url, query, properties=props)

    _check_reachable(url, spec.name)
    try:
        counts = read(jdbc.counts_query(url, spec.entity, start, end)).first()
        frames = [read(q).select(*[F.col(c).cast("string").alias(c) for c in spec.columns]).cache()
                  for q in (jdbc.window_query(url, spec.entity, spec.columns, start, end),
                            jdbc.outside_query(url, spec.entity, spec.columns))]
        for frame in frames:
            frame.count()
    except Exception as exc:
        cause = _cause(exc)
        error = SourceUnavailableError if any(m in cause.lower() for m in CONNECTION_FAILURES) else SourceQueryError
        raise error(redact(f"source {spec.name} at {url} failed: {cause}")) from None
    window_rows, outside = frames
    return window_rows, outside, {k: int(counts[k] or 0) for k in ("in_window", "through_window", "outside")}


def bronze_history(spark: SparkSession, job: BronzeArgs) -> tuple[DataFrame | None, int, int]:
    """The other partitions' outside-window rows, the rows of partitions before the day, and outside-window rows
    held by later partitions (a day re-run after later days)."""
    history = read_table(spark, join(job.bronze_path, job.spec.name))
    if history is None:
        return None, 0, 0
    day, outside = F.col("ingestion_date").cast("string"), F.col("_source_ref") == OUTSIDE_REF
    history = history.where(day != job.ingestion_date).select("ingestion_date", "_source_ref", "_record_hash")
    totals = history.agg(F.sum(F.when(day < job.ingestion_date, 1).otherwise(0)).alias("before"),
                         F.sum(F.when((day > job.ingestion_date) & outside, 1).otherwise(0)).alias("later")).first()
    return history.where(outside).select("_record_hash"), int(totals["before"] or 0), int(totals["later"] or 0)


def ingest(spark: SparkSession, job: BronzeArgs, url: str, props: dict[str, str], attempts: int, backoff: float) -> dict[str, Any]:
    """Extract the partition's window and the rows outside every window not yet in bronze; write the partition."""
    spec = job.spec
    start, end = job.window
    ref = f"{spec.entity} updated_at in [{start}, {end})"
    window_rows, outside, counts = with_source_retry(lambda: read_source(spark, job, url, props), attempts, backoff)
    held, before, later = bronze_history(spark, job)
    new_outside = job.stamp(outside, F.lit(OUTSIDE_REF))
    if held is not None:
        new_outside = new_outside.join(held, "_record_hash", "left_anti").select(*new_outside.columns)
    bronze = job.stamp(window_rows, F.lit(ref)).unionByName(new_outside)
    try:
        result = write_bronze(bronze, job, source_rows=counts["in_window"] + new_outside.count(), source_ref=ref)
    finally:
        window_rows.unpersist()
        outside.unpersist()
    return {**result, "outside_window_rows": result["source_rows"] - counts["in_window"],
            "source_rows_total": counts["through_window"] + counts["outside"],
            "bronze_rows_seen": before + result["rows"] + later}


def source_url(args: dict[str, str]) -> str:
    """The JDBC URL: `--jdbc_url`, or the value of the variable `--jdbc_url_env` names (a URL with credentials)."""
    env = args.get("jdbc_url_env")
    if args.get("jdbc_url") or not env:
        return require(args, "jdbc_url")[0]
    if not os.environ.get(env):
        raise ValueError(f"--jdbc_url_env names {env}, which is not set")
    return os.environ[env]


def run(spark: SparkSession, args: dict[str, str]) -> dict[str, Any]:
    """Ingest `--table` (db__orders|db__lineitem) for `--ingestion_date` (through `--ingestion_date_end`) from
    `--jdbc_url` (or `--jdbc_url_env`) into `--bronze_path`, one watermark window per day; an unreachable source is tried
    `--db_max_attempts` times (default 3) with jittered backoff from `--db_backoff_seconds` (default 2)."""
    bronze_args(args, JOB)
    bare, props = jdbc_properties(source_url(args), args)
    attempts, backoff = int(args.get("db_max_attempts", "3")), float(args.get("db_backoff_seconds", "2"))
    return over_days(args, lambda day: ingest(spark, bronze_args(day, JOB), bare, props, attempts, backoff))


if __name__ == "__main__":
    main(run)
