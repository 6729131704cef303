"""The Spark session a Glue job runs in: Glue's own on AWS, one shared local session elsewhere."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from pyspark.sql import SparkSession

LOCAL_SPARK_CONF: dict[str, str] = {
    "spark.master": "local[*]",
    "spark.app.name": "lakehouse",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    # A local session has two cores (local[*] on the CI machine); with adaptive execution off (below) each shuffle
    # stage runs this many tasks.
    "spark.sql.shuffle.partitions": "2",
    # Adaptive execution re-plans every query at each stage boundary; a silver or gold run is tens of small queries,
    # where the re-planning cost more CPU than it saved. Glue keeps its default (on): its data and cluster are larger.
    "spark.sql.adaptive.enabled": "false",
    # Generated code is compiled once per distinct plan piece; the default cache (100 entries) holds less than one
    # silver run's, so the next day's run of the same table compiled (and the JIT warmed) them all again.
    "spark.sql.codegen.cache.maxEntries": "2048",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # Dates and timestamps before 1582 are proleptic Gregorian, as DuckDB writes and reads them (Spark's default
    # raises on writing them).
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.driver.memory": "4g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.hadoop.fs.file.impl.disable.cache": "false",
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    "spark.hadoop.parquet.enable.summary-metadata": "false",
    "spark.sql.parquet.compression.codec": "zstd",
    # Constraint propagation infers filters from every projected expression; over the standardized columns
    # (regex, casts, rule arrays) joined to quarantine and silver it made planning, not execution, the cost.
    "spark.sql.constraintPropagation.enabled": "false",
}

# Locally Spark's WARN lines (native Hadoop, planner notes) say nothing a lakehouse user can act on.
LOCAL_LOG_LEVEL = "ERROR"


def local_spark_conf() -> dict[str, str]:
    """The local session's settings (no extra jars: the database source is read through Python drivers)."""
    return dict(LOCAL_SPARK_CONF)


def get_spark() -> SparkSession:
    """Return Glue's session inside AWS Glue, else the process-wide local session (created once)."""
    try:
        from awsglue.context import GlueContext  # type: ignore[import-not-found]
        from pyspark.context import SparkContext
    except ImportError:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = SparkSession.builder
        for key, value in local_spark_conf().items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel(LOCAL_LOG_LEVEL)
        return session
    session = GlueContext(SparkContext.getOrCreate()).spark_session
    for key in ("spark.sql.session.timeZone", "spark.sql.legacy.timeParserPolicy", "spark.sql.ansi.enabled",
                "spark.sql.constraintPropagation.enabled", "spark.sql.parquet.datetimeRebaseModeInWrite",
                "spark.sql.parquet.datetimeRebaseModeInRead"):
        session.conf.set(key, LOCAL_SPARK_CONF[key])
    return session


class LazySpark:
    """A Spark session created on first use: jobs that run on DuckDB or plain Python never start a JVM."""

    def __init__(self, factory: Callable[[], SparkSession] = get_spark) -> None:
        self._factory = factory
        self._session: SparkSession | None = None

    @property
    def started(self) -> bool:
        """Whether the session has been created."""
        return self._session is not None

    def __getattr__(self, name: str) -> Any:
        if self._session is None:
            self._session = self._factory()
        return getattr(self._session, name)
