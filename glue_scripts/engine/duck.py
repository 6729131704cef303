"""DuckDB engine: an in-memory connection in UTC; Arrow output through the one write path (writer.write_arrow)."""

from __future__ import annotations

import uuid
from typing import Any

import duckdb

from glue_scripts.common import writer
from glue_scripts.engine.dialect import Columns, empty_select, literal, render, typed_select


class DuckDBEngine:
    """Runs canonical SQL on DuckDB; relations are temporary views and tables of one connection."""

    name = "duckdb"

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.prefix = f"r{uuid.uuid4().hex[:8]}"

    def _create(self, kind: str, name: str, sql: str) -> str:
        target = f"{self.prefix}_{name}"
        self.con.execute(f"CREATE OR REPLACE TEMP {kind} {target} AS {render(sql, self.name)}")
        return target

    def register(self, name: str, base_path: str, files: list[str], columns: Columns, partitioned: bool = True) -> str:
        """A relation of `columns` (plus `ingestion_date` when `partitioned`) over exactly `files`."""
        day = (("ingestion_date", "string"),) if partitioned else ()
        if not files:
            return self.view(name, empty_select((*columns, *day)))
        extra = ("CAST(ingestion_date AS VARCHAR) AS ingestion_date",) if partitioned else ()
        listed = ", ".join(literal(f) for f in files)
        hive = "hive_partitioning = true, hive_types = {'ingestion_date': 'VARCHAR'}" if partitioned else \
            "hive_partitioning = false"
        source = f"read_parquet([{listed}], {hive}, union_by_name = true)"
        return self.view(name, typed_select(columns, source, extra))

    def view(self, name: str, sql: str) -> str:
        """A lazily computed relation defined by `sql`."""
        return self._create("VIEW", name, sql)

    def materialize(self, name: str, sql: str) -> str:
        """A relation computed once into a temporary table."""
        return self._create("TABLE", name, sql)

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """The result of `sql` as dicts of Python values."""
        return self.con.sql(render(sql, self.name)).to_dicts()

    def write(self, sql: str, table_path: str, partition: str, order_by: tuple[str, ...],
              sidecars: dict[str, bytes] | None = None) -> dict[str, Any]:
        """Replace one partition with the sorted rows of `sql`, written as one Arrow file by writer.write_arrow."""
        ordered = f"SELECT * FROM ({sql}) AS w ORDER BY {', '.join(order_by)}" if order_by else sql
        table = self.con.sql(render(ordered, self.name)).to_arrow_table()
        path = writer.write_arrow(table, table_path, partition, sidecars=sidecars)
        return {**writer.parquet_stats(path), "path": path}

    def close(self) -> None:
        """Close the connection (its temporary relations go with it)."""
        self.con.close()
