"""Athena: one interface that takes Athena (Trino) SQL over the catalogued tables and returns Arrow.

Locally DuckDB answers, read-only, with sqlglot transpiling the Athena dialect (lakehouse.resources.local_athena);
on AWS boto3 runs Athena itself.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import dagster as dg
import pyarrow as pa

from lakehouse.resources.athena_sql import QueryError
from lakehouse.resources.catalog import Catalog
from lakehouse.resources.local_athena import LocalAthena
from lakehouse.settings import Settings

__all__ = ["AthenaExecution", "BotoAthena", "DuckDBAthena", "QueryEngine", "QueryError"]


class QueryEngine(dg.ConfigurableResource):
    """Runs Athena-dialect SQL and returns an Arrow table."""

    def query(self, sql: str) -> pa.Table:
        """Run one statement and return its result."""
        raise NotImplementedError


class DuckDBAthena(QueryEngine):
    """DuckDB over the catalog's tables, each a view `<database>.<table>` on its Parquet files; read-only."""

    catalog: Catalog

    def query(self, sql: str) -> pa.Table:
        """Run one read-only statement through the local engine (lakehouse.resources.local_athena)."""
        return LocalAthena(self.catalog.tables, getattr(self.catalog, "path", "the catalog")).query(sql)


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

    @classmethod
    def for_settings(cls, settings: Settings) -> BotoAthena:
        """The aws profile's Athena: its workgroup, encrypted output location, region and endpoint."""
        return cls(workgroup=settings.athena_workgroup, output_location=settings.athena_output, region=settings.region,
                   kms_key_id=settings.kms_key_id, endpoint_url=settings.endpoint_url)

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
