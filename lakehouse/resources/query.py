"""Athena: one interface that takes Athena (Trino) SQL over the catalogued tables and returns Arrow.

Locally DuckDB answers, with sqlglot transpiling the Athena dialect; on AWS boto3 runs Athena itself.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa
import sqlglot
import sqlglot.errors

from glue_scripts.common.fs import filesystem_for
from lakehouse.resources.catalog import Catalog, TableEntry


class QueryError(RuntimeError):
    """A query failed: bad SQL, an unknown table, or the engine's own error; `query_id` names an Athena query."""

    def __init__(self, message: str, query_id: str | None = None) -> None:
        super().__init__(message)
        self.query_id = query_id


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


@dataclass(frozen=True)
class AthenaExecution:
    """One finished Athena query: its id, where Athena wrote the result, how often it was polled, the rows."""

    query_id: str
    output_location: str
    polls: int
    table: pa.Table


class BotoAthena(QueryEngine):
    """Amazon Athena through boto3: workgroup, encrypted output location, polling with backoff, timeout."""

    workgroup: str
    output_location: str
    region: str
    kms_key_id: str = ""
    endpoint_url: str = ""
    timeout_seconds: float = 600.0
    first_poll_seconds: float = 0.2
    max_poll_seconds: float = 5.0

    def _client(self) -> Any:
        import boto3

        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        return boto3.client("athena", **kwargs)

    def query(self, sql: str) -> pa.Table:
        """Run one statement on Athena and return its rows, typed from Athena's result metadata."""
        return self.execute(sql).table

    def execute(self, sql: str) -> AthenaExecution:
        """Start the query in the workgroup, poll with backoff until it ends; failures name the query id."""
        from botocore.exceptions import ClientError

        athena = self._client()
        config: dict[str, Any] = {"OutputLocation": self.output_location}
        if self.kms_key_id:
            config["EncryptionConfiguration"] = {"EncryptionOption": "SSE_KMS", "KmsKey": self.kms_key_id}
        try:
            query_id = athena.start_query_execution(
                QueryString=sql, WorkGroup=self.workgroup, ResultConfiguration=config
            )["QueryExecutionId"]
        except ClientError as error:
            raise QueryError(f"Athena refused the query in workgroup {self.workgroup}: {error}") from error
        polls, delay, deadline = 0, self.first_poll_seconds, time.monotonic() + self.timeout_seconds
        while True:
            execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            polls += 1
            status = execution["Status"]
            if status["State"] == "SUCCEEDED":
                break
            if status["State"] in ("FAILED", "CANCELLED"):
                reason = status.get("AthenaError", {}).get("ErrorMessage") or status.get("StateChangeReason", "")
                raise QueryError(f"Athena query {query_id} {status['State']}: {reason}", query_id)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                athena.stop_query_execution(QueryExecutionId=query_id)
                raise QueryError(
                    f"Athena query {query_id} timed out after {self.timeout_seconds:g} seconds "
                    f"(state {status['State']}); stopped", query_id,
                )
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, self.max_poll_seconds)
        location = execution.get("ResultConfiguration", {}).get("OutputLocation", "")
        return AthenaExecution(query_id, location, polls, _fetch(athena, query_id, execution.get("StatementType")))


def _fetch(athena: Any, query_id: str, statement_type: str | None) -> pa.Table:
    rows: list[list[str | None]] = []
    columns: list[dict[str, Any]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        if not columns:
            columns = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        rows.extend([d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"])
    names = [c["Name"] for c in columns]
    # Athena repeats the column names as the first row of a SELECT's result.
    if rows and statement_type in ("DML", None) and rows[0] == names:
        rows = rows[1:]
    arrays = [_typed([r[i] if i < len(r) else None for r in rows], c) for i, c in enumerate(columns)]
    return pa.Table.from_arrays(arrays, names=names)


_INTEGERS = {"tinyint": pa.int8(), "smallint": pa.int16(), "integer": pa.int32(), "int": pa.int32(),
             "bigint": pa.int64()}
_FLOATS = {"double": pa.float64(), "real": pa.float32(), "float": pa.float32()}


def _typed(values: list[str | None], column: dict[str, Any]) -> pa.Array:
    """One result column as Arrow, typed by Athena's column type; types without an Arrow peer stay strings."""
    kind = column.get("Type", "varchar").lower()

    def parse(convert: Any) -> list[Any]:
        return [None if v is None else convert(v) for v in values]

    if kind in _INTEGERS:
        return pa.array(parse(int), _INTEGERS[kind])
    if kind in _FLOATS:
        return pa.array(parse(float), _FLOATS[kind])
    if kind == "decimal":
        precision, scale = int(column.get("Precision") or 38), int(column.get("Scale") or 0)
        return pa.array(parse(Decimal), pa.decimal128(precision, scale))
    if kind == "boolean":
        return pa.array(parse(lambda v: v.lower() == "true"), pa.bool_())
    if kind == "date":
        return pa.array(parse(dt.date.fromisoformat), pa.date32())
    if kind == "timestamp":
        return pa.array(parse(dt.datetime.fromisoformat), pa.timestamp("us"))
    return pa.array(values, pa.string())
