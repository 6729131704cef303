"""Glue job bronze_ingest_db: one watermark window of a database change table → one bronze partition."""

from __future__ import annotations

import os
import re
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_scripts.common.bronze_job import BronzeArgs, bronze_args, write_bronze
from glue_scripts.common.days import over_days
from glue_scripts.common.entry import main, require

JOB = "bronze_ingest_db"
DRIVERS = {"jdbc:sqlite:": "org.sqlite.JDBC", "jdbc:postgresql:": "org.postgresql.Driver"}


class SourceUnavailableError(RuntimeError):
    """The source database could not be reached or queried."""


def jdbc_properties(url: str, args: dict[str, str]) -> dict[str, str]:
    """Driver, user and password for the JDBC URL; the password only ever comes from an env var."""
    driver = next((d for prefix, d in DRIVERS.items() if url.startswith(prefix)), None)
    if driver is None:
        raise ValueError(f"unsupported JDBC URL {redact(url)}; expected one of {sorted(DRIVERS)}")
    props = {"driver": driver}
    if args.get("jdbc_user"):
        props["user"] = args["jdbc_user"]
    env = args.get("jdbc_password_env")
    if env:
        if env not in os.environ:
            raise ValueError(f"--jdbc_password_env names {env}, which is not set")
        props["password"] = os.environ[env]
    return props


def redact(url: str) -> str:
    """The URL without any password it carries."""
    return re.sub(r"(password=)[^&;]*", r"\1***", re.sub(r"//([^/@:]+):[^/@]*@", r"//\1:***@", url))


def window_query(table: str, columns: tuple[str, ...], start: str, end: str) -> str:
    """The pushed-down subquery selecting one window's rows, spec columns in spec order."""
    cols = ", ".join(f'"{c}"' for c in columns)
    return f"(SELECT {cols} FROM {table} WHERE updated_at >= '{start}' AND updated_at < '{end}') AS src"


def count_query(table: str, start: str, end: str) -> str:
    """The source's own row count for the same window."""
    return f"(SELECT COUNT(*) AS n FROM {table} WHERE updated_at >= '{start}' AND updated_at < '{end}') AS cnt"


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


def read_window(spark: SparkSession, job: BronzeArgs, url: str, props: dict[str, str]) -> tuple[DataFrame, int]:
    """Read the window's rows and the source's own count; failures name the source and the cause."""
    spec = job.spec
    start, end = job.window
    _check_reachable(url, spec.name)
    try:
        df = spark.read.jdbc(url, window_query(spec.entity, spec.columns, start, end), properties=props)
        count = spark.read.jdbc(url, count_query(spec.entity, start, end), properties=props).first()
        df = df.select(*[F.col(c).cast("string").alias(c) for c in spec.columns]).cache()
        df.count()
    except Exception as exc:
        raise SourceUnavailableError(f"source {spec.name} at {redact(url)} failed: {_cause(exc)}") from exc
    return df, int(count["n"])


def ingest(spark: SparkSession, job: BronzeArgs, url: str, props: dict[str, str]) -> dict[str, Any]:
    """Extract the partition's watermark window and write it as the bronze partition."""
    spec = job.spec
    start, end = job.window
    ref = f"{spec.entity} updated_at in [{start}, {end})"
    raw, source_rows = read_window(spark, job, url, props)
    bronze = job.stamp(raw, F.lit(ref))
    try:
        return write_bronze(bronze, job, source_rows=source_rows, source_ref=ref)
    finally:
        raw.unpersist()


def run(spark: SparkSession, args: dict[str, str]) -> dict[str, Any]:
    """Ingest `--table` (db__orders|db__lineitem) for `--ingestion_date` (through `--ingestion_date_end`) from
    `--jdbc_url` into `--bronze_path`, one watermark window per day."""
    bronze_args(args, JOB)
    (url,) = require(args, "jdbc_url")
    props = jdbc_properties(url, args)
    return over_days(args, lambda day: ingest(spark, bronze_args(day, JOB), url, props))


if __name__ == "__main__":
    main(run)
