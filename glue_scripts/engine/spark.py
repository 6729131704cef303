"""Spark engine: the job's session (Glue's on AWS); DataFrame output through spark_io.write_partition."""

from __future__ import annotations

import uuid
from typing import Any

from pyspark.sql import SparkSession

from glue_scripts.common import spark_io
from glue_scripts.engine.dialect import Columns, empty_select, render, typed_select
from glue_scripts.engine.spark_read import read_parquet


class SparkEngine:
    """Runs canonical SQL rendered for Spark; relations are temporary views of the session."""

    name = "spark"

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.prefix = f"r{uuid.uuid4().hex[:8]}"
        self.views: set[str] = set()

    def register(self, name: str, base_path: str, files: list[str], columns: Columns, partitioned: bool = True) -> str:
        """A relation of `columns` (plus `ingestion_date` when `partitioned`) over exactly `files`."""
        day = (("ingestion_date", "string"),) if partitioned else ()
        if not files:
            return self.view(name, empty_select((*columns, *day)))
        extra = ("CAST(ingestion_date AS VARCHAR) AS ingestion_date",) if partitioned else ()
        raw = f"{self.prefix}_{name}_files"
        read_parquet(self.spark, base_path, files).createOrReplaceTempView(raw)
        self.views.add(raw)
        return self.view(name, typed_select(columns, raw, extra))

    def view(self, name: str, sql: str) -> str:
        """A lazily computed relation defined by `sql`."""
        target = f"{self.prefix}_{name}"
        self.spark.sql(render(sql, self.name)).createOrReplaceTempView(target)
        self.views.add(target)
        return target

    def materialize(self, name: str, sql: str) -> str:
        """A relation computed now (a local checkpoint), so later writes may replace the files it was read from."""
        target = f"{self.prefix}_{name}"
        self.spark.sql(render(sql, self.name)).localCheckpoint(eager=True).createOrReplaceTempView(target)
        self.views.add(target)
        return target

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """The result of `sql` as dicts of Python values."""
        return [row.asDict(recursive=True) for row in self.spark.sql(render(sql, self.name)).collect()]

    def write(self, sql: str, table_path: str, partition: str, order_by: tuple[str, ...],
              sidecars: dict[str, bytes] | None = None) -> dict[str, Any]:
        """Replace one partition with the rows of `sql` in one sorted file, through spark_io.write_partition."""
        df = self.spark.sql(render(sql, self.name)).repartition(1)
        return spark_io.write_partition(df.sortWithinPartitions(*order_by) if order_by else df, table_path,
                                        partition, sidecars)

    def close(self) -> None:
        """Drop this engine's temporary views (checkpointed data goes with them)."""
        for view in sorted(self.views):
            self.spark.catalog.dropTempView(view)
        self.views.clear()
