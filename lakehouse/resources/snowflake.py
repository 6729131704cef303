"""Snowflake: dagster-snowflake's SnowflakeResource, plus how gold Parquet reaches a Snowflake table.

dagster-snowflake imports Snowpark and snowflake.core at the top, about 6 s of every process that loads the
definitions (code servers, run workers, the CLI), so the resource holds the connection settings and builds the
SnowflakeResource, importing it, on its first connection: only a step that talks to Snowflake pays for it.

In aws the marts load with `COPY INTO` from an external stage on the gold S3 prefix, created with the
storage integration if missing; locally fakesnow stands in, loaded the same way from an internal
stage after `PUT`. Either way one transaction deletes the table's rows and copies the mart back in,
with `FORCE` so files Snowflake loaded before are not skipped: a re-publish replaces, never doubles.

fakesnow 0.12.1 accepts the external stage (it records URL, type EXTERNAL and cloud AWS; it ignores
STORAGE_INTEGRATION and the stage's FILE_FORMAT) and turns `COPY INTO ... FROM @stage/path/` into a
DuckDB `glob('s3://.../path/*')` and `read_parquet` per file. It uses no boto3 and never reads
AWS_ENDPOINT_URL: DuckDB itself must read s3://, and this DuckDB has no httpfs. So, standing in for
the storage integration, `FakesnowResource` registers pyarrow's S3 client (honouring
AWS_ENDPOINT_URL, e.g. a moto server) with DuckDB through fsspec when its gold stage is on S3.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import dagster as dg
from pydantic import Field

from glue_scripts.common.fs import filesystem_for

OBJECT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}")
S3_URI = re.compile(r"s3://[a-z0-9][a-z0-9.-]*[a-z0-9](/[^'\\]*)?")


class LakehouseSnowflake(dg.ConfigurableResource):
    """dagster-snowflake's SnowflakeResource that knows where gold lives: an external stage on the gold bucket, or
    none (PUT)."""

    account: str | None = None
    user: str
    password: str | None = None
    database: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    role: str | None = None
    warehouse: str | None = None
    gold_stage: str = ""
    gold_uri: str = ""
    storage_integration: str = ""

    def client(self) -> Any:
        """dagster-snowflake's SnowflakeResource over these settings (imported here, on first use)."""
        from dagster_snowflake import SnowflakeResource

        settings = {"account": self.account, "user": self.user, "password": self.password, "database": self.database,
                    "schema": self.schema_, "role": self.role, "warehouse": self.warehouse}
        return SnowflakeResource(**{k: v for k, v in settings.items() if v is not None})

    @contextmanager
    def get_connection(self, raw_conn: bool = True) -> Iterator[Any]:
        """A connection from SnowflakeResource for the life of the block."""
        with self.client().get_connection(raw_conn=raw_conn) as conn:
            yield conn

    def publish(self, table_name: str, data: pa.Table, stage_path: str) -> int:
        """Replace `table_name` with `data` in one transaction (create, delete, COPY INTO); return rows loaded."""
        ddl = ", ".join(f"{quote(f.name)} {snowflake_type(f.type)}" for f in data.schema)
        with self.get_connection() as conn:
            cur = conn.cursor()
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(self.schema_ or 'GOLD')}")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {quote(table_name)} ({ddl})")
            stage = self._stage_files(cur, table_name, data, stage_path)
            cur.execute("BEGIN")
            try:
                cur.execute(f"DELETE FROM {quote(table_name)}")
                if data.num_rows:
                    cur.execute(
                        f"COPY INTO {quote(table_name)} FROM {stage} FILE_FORMAT = (TYPE = PARQUET) "
                        "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE FORCE = TRUE"
                    )
                cur.execute("COMMIT")
            except Exception:
                cur.execute("ROLLBACK")
                raise
            return int(cur.execute(f"SELECT COUNT(*) FROM {quote(table_name)}").fetchone()[0])

    def _stage_files(self, cur: Any, table_name: str, data: pa.Table, stage_path: str) -> str:
        """Where the mart's Parquet is staged: `<mart>/` of the external gold stage, or an internal stage after PUT.

        The internal stage holds one file per mart, overwritten by each PUT, so no stale file is loaded;
        COPY uses FORCE because Snowflake would otherwise skip a file it loaded before.
        """
        if self.gold_stage:
            cur.execute(self.external_stage_ddl())
            return f"@{self.gold_stage.upper()}/{stage_path.strip('/')}/"
        cur.execute("CREATE STAGE IF NOT EXISTS GOLD_STAGE")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{table_name}.parquet"
            pq.write_table(data, path)
            cur.execute(f"PUT file://{path} @GOLD_STAGE/{table_name}/ AUTO_COMPRESS = FALSE OVERWRITE = TRUE")
        return f"@GOLD_STAGE/{table_name}/"

    def external_stage_ddl(self) -> str:
        """`CREATE STAGE IF NOT EXISTS` for the gold stage: the gold prefix, read through the storage integration."""
        for name, value in (("gold_stage", self.gold_stage), ("storage_integration", self.storage_integration)):
            if not OBJECT_NAME.fullmatch(value):
                raise ValueError(f"{name} must be an unquoted Snowflake object name, not {value!r}")
        if not S3_URI.fullmatch(self.gold_uri):
            raise ValueError(f"gold_uri must be the s3:// URI of the gold layer, not {self.gold_uri!r}")
        return (
            f"CREATE STAGE IF NOT EXISTS {self.gold_stage.upper()} URL = '{self.gold_uri.rstrip('/')}/' "
            f"STORAGE_INTEGRATION = {self.storage_integration.upper()} FILE_FORMAT = (TYPE = PARQUET)"
        )

    def totals(self, table_name: str, measures: dict[str, int]) -> dict[str, Decimal]:
        """Row count and the exact sum of each measure column, given with its scale (empty sums read as 0).

        Each column is summed as integer units of its scale (NUMBER(38,0)): exact in Snowflake, and it
        keeps fakesnow, whose SUM of wide decimals returns a double, exact as well.
        """
        selects = ", ".join(["TO_VARCHAR(COUNT(*))", *(
            f"TO_VARCHAR(SUM(CAST({quote(m)} * {10 ** scale} AS NUMBER(38,0))))" for m, scale in measures.items()
        )])
        with self.get_connection() as conn:
            row = conn.cursor().execute(f"SELECT {selects} FROM {quote(table_name)}").fetchone()
        return {"rows": Decimal(row[0]), **{
            m: Decimal(v or 0).scaleb(-scale) for (m, scale), v in zip(measures.items(), row[1:])
        }}


class FakesnowResource(LakehouseSnowflake):
    """The same resource whose connections go to fakesnow, persisted under `db_path` (local profile; aws in tests)."""

    db_path: str

    @contextmanager
    def get_connection(self, raw_conn: bool = True) -> Iterator[Any]:
        """A Snowflake connection answered by fakesnow (DuckDB underneath) for the life of the block."""
        import fakesnow

        Path(self.db_path).mkdir(parents=True, exist_ok=True)
        database, schema = quote(self.database or "LAKEHOUSE"), quote(self.schema_ or "GOLD")
        with fakesnow.patch(db_path=self.db_path):
            with super().get_connection(raw_conn=raw_conn) as conn:
                if self.gold_stage and self.gold_uri.startswith("s3://"):
                    read_s3_through_arrow(conn._duck_conn)
                conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS {database}")
                conn.cursor().execute(f"CREATE SCHEMA IF NOT EXISTS {database}.{schema}")
                conn.cursor().execute(f"USE SCHEMA {database}.{schema}")
                yield conn


def read_s3_through_arrow(duck_conn: Any) -> None:
    """Let fakesnow's DuckDB (no httpfs here) read s3:// through pyarrow's S3 client, in the integration's stead."""
    from fsspec.implementations.arrow import ArrowFSWrapper

    if not duck_conn.filesystem_is_registered("s3"):
        duck_conn.register_filesystem(ArrowFSWrapper(filesystem_for("s3://")[0]))


def quote(identifier: str) -> str:
    """A quoted upper-case Snowflake identifier (case-insensitive on load, safe for any name)."""
    return '"' + identifier.upper().replace('"', '""') + '"'


def snowflake_type(arrow_type: pa.DataType) -> str:
    """The Snowflake column type that round-trips an Arrow type from gold Parquet."""
    if pa.types.is_decimal(arrow_type):
        return f"NUMBER({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_integer(arrow_type):
        return "NUMBER(38,0)"
    if pa.types.is_floating(arrow_type):
        return "FLOAT"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP_TZ" if arrow_type.tz else "TIMESTAMP_NTZ"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return "ARRAY"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "VARCHAR"
    raise TypeError(f"no Snowflake type for Arrow type {arrow_type}")
