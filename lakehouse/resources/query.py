"""Athena: one interface that takes Athena (Trino) SQL over the catalogued tables and returns Arrow.

Locally DuckDB answers, with sqlglot transpiling the Athena dialect; on AWS boto3 runs Athena itself.
"""

from __future__ import annotations

import time
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa
import sqlglot
import sqlglot.errors

from glue_scripts.common.fs import filesystem_for
from lakehouse.resources.catalog import Catalog, TableEntry


class QueryError(RuntimeError):
    """A query failed: bad SQL, an unknown table, or the engine's own error."""


class QueryEngine(dg.ConfigurableResource):
    """Runs Athena-dialect SQL and returns an Arrow table."""

    def query(self, sql: str) -> pa.Table:
        """Run one statement and return its result."""
        raise NotImplementedError


class DuckDBAthena(QueryEngine):
    """DuckDB over the local catalog's tables, each a view `<database>.<table>` on its Parquet files."""

    catalog: Catalog

    def query(self, sql: str) -> pa.Table:
        """Transpile Athena SQL to DuckDB and run it over every catalogued table."""
        try:
            statements = sqlglot.transpile(sql, read="trino", write="duckdb")
        except sqlglot.errors.ParseError as error:
            raise QueryError(f"cannot parse the SQL: {error}") from error
        if len(statements) != 1:
            raise QueryError(f"expected one SQL statement, got {len(statements)}")
        con = duckdb.connect()
        try:
            for entry in self.catalog.tables():
                _register(con, entry)
            result = con.sql(statements[0])
            return result.to_arrow_table() if result is not None else pa.table({})
        except duckdb.CatalogException as error:
            raise QueryError(f"unknown table or column: {error}") from error
        except duckdb.Error as error:
            raise QueryError(str(error)) from error
        finally:
            con.close()


def _register(con: duckdb.DuckDBPyConnection, entry: TableEntry) -> None:
    _, path = filesystem_for(entry.location)
    depth = "".join(f"/{key}=*" for key in entry.partition_keys)
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{entry.database}"')
    con.execute(
        f'CREATE OR REPLACE VIEW "{entry.database}"."{entry.name}" AS SELECT * FROM read_parquet('
        f"'{path}{depth}/*.parquet', hive_partitioning = {str(bool(entry.partition_keys)).lower()}, "
        "union_by_name = true)"
    )


class BotoAthena(QueryEngine):
    """Amazon Athena through boto3: workgroup, encrypted output location, polling with backoff, timeout."""

    workgroup: str
    output_location: str
    region: str
    kms_key_id: str = ""
    endpoint_url: str = ""
    timeout_seconds: float = 600.0

    def query(self, sql: str) -> pa.Table:
        """Start the query, poll until it ends, and return its rows; failures name the query id."""
        import boto3

        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        athena = boto3.client("athena", **kwargs)
        config: dict[str, Any] = {"OutputLocation": self.output_location}
        if self.kms_key_id:
            config["EncryptionConfiguration"] = {"EncryptionOption": "SSE_KMS", "KmsKey": self.kms_key_id}
        query_id = athena.start_query_execution(
            QueryString=sql, WorkGroup=self.workgroup, ResultConfiguration=config
        )["QueryExecutionId"]
        delay, deadline = 0.2, time.monotonic() + self.timeout_seconds
        while True:
            status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            if status["State"] == "SUCCEEDED":
                break
            if status["State"] in ("FAILED", "CANCELLED"):
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage", "")
                raise QueryError(f"Athena query {query_id} {status['State']}: {reason}")
            if time.monotonic() > deadline:
                athena.stop_query_execution(QueryExecutionId=query_id)
                raise QueryError(f"Athena query {query_id} timed out after {self.timeout_seconds:.0f}s")
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        return _fetch(athena, query_id)


def _fetch(athena: Any, query_id: str) -> pa.Table:
    rows: list[list[str | None]] = []
    names: list[str] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        if not names:
            names = [c["Name"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
        rows.extend([d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"])
    if rows and rows[0] == names:
        rows = rows[1:]
    return pa.table({name: [r[i] if i < len(r) else None for r in rows] for i, name in enumerate(names)})
