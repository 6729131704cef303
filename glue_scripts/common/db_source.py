"""A database source through its Python DB-API driver (sqlite3, psycopg2), named by its JDBC URL.

One `DbSource.session()` is one connection and one read-only transaction (PostgreSQL: REPEATABLE READ), so the
counts and the rows agree. Results stream in batches as bronze text (glue_scripts/common/db_text.py). A driver error
leaves the session as SourceUnavailableError (worth retrying: refused, timed out, busy) or SourceQueryError (the
database answered no), its message naming the source and the redacted URL, never the password.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

import psycopg2
import psycopg2.extras
import pyarrow as pa

from glue_scripts.common import db_text, jdbc
from glue_scripts.common.redact import redact
from glue_scripts.common.transient import TransientSourceError

BATCH_ROWS = 20_000
DEFAULT_CONNECT_TIMEOUT = "10"  # seconds; the PostgreSQL JDBC driver's default connectTimeout
# JDBC URL parameters of the PostgreSQL driver that libpq understands, by their libpq names.
PG_PARAMETERS = {"connectTimeout": "connect_timeout", "loginTimeout": "connect_timeout", "sslmode": "sslmode",
                 "sslrootcert": "sslrootcert", "sslcert": "sslcert", "sslkey": "sslkey", "user": "user",
                 "password": "password", "ApplicationName": "application_name"}
# SQLSTATE classes of a failure of the connection or the server rather than of the query.
TRANSIENT_PG_CLASSES = ("08", "53", "57", "58")
TRANSIENT_PG_CODES = ("40001", "40P01")  # serialization failure, deadlock
TRANSIENT_PG_FATAL = ("starting up", "shutting down", "too many clients", "recovery mode", "connection slots")
TRANSIENT_SQLITE = ("database is locked", "busy", "unable to open", "disk i/o error")


class SourceUnavailableError(TransientSourceError):
    """The source database could not be reached (refused, timed out, busy): worth trying again later."""


class SourceQueryError(RuntimeError):
    """The source database answered but the query failed (a missing table or column): retrying will not help."""


def postgres_params(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URI and keyword parameters of `jdbc:postgresql://host[:port]/db[?params]` (no userinfo)."""
    base, _, query = url.removeprefix("jdbc:").partition("?")
    if not base.startswith("postgresql://"):
        base = "postgresql://localhost/" + base.removeprefix("postgresql:").lstrip("/")
    params = {"connect_timeout": DEFAULT_CONNECT_TIMEOUT}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == "ssl":
            params["sslmode"] = "require" if value.lower() in ("", "true") else "disable"
        elif name == "currentSchema":
            params["options"] = f"-c search_path={value}"
        elif name in PG_PARAMETERS:
            params[PG_PARAMETERS[name]] = value
        else:
            known = sorted([*PG_PARAMETERS, "ssl", "currentSchema"])
            raise ValueError(f"unsupported JDBC URL parameter {name!r}; supported: {', '.join(known)}")
    return base, params


def sqlite_path(url: str) -> str:
    """The database file of `jdbc:sqlite:<path>` (driver options after `?` dropped), or `:memory:`."""
    return url.removeprefix("jdbc:sqlite:").split("?", 1)[0].removeprefix("file:") or ":memory:"


def _cause(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_unavailable(exc: BaseException) -> bool:
    """Whether a driver error means the source could not serve us now (rather than refusing the query)."""
    text = str(exc).lower()
    if isinstance(exc, sqlite3.Error):
        return any(m in text for m in TRANSIENT_SQLITE)
    code = getattr(exc, "pgcode", None)
    if code:
        return code[:2] in TRANSIENT_PG_CLASSES or code in TRANSIENT_PG_CODES
    if "fatal:" in text:  # the server answered the connection attempt: no such database, authentication failed
        return any(m in text for m in TRANSIENT_PG_FATAL)
    return isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError))


def _text_column(values: tuple[Any, ...], render: db_text.Render) -> pa.Array:
    """One column of a batch as strings: text values as they are (Arrow converts them at C speed), any other
    value through the column's renderer."""
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([render(v) for v in values], pa.string())


@dataclass
class Session:
    """One open connection to the source."""

    conn: Any
    dialect: str

    def counts(self, sql: str) -> dict[str, int]:
        """The one row of a counting query, by column name, as integers (NULL as 0)."""
        cur = self.conn.cursor()
        try:
            cur.execute(sql)
            row = cur.fetchone()
            return {d[0]: int(v or 0) for d, v in zip(cur.description, row)}
        finally:
            cur.close()

    def stream(self, sql: str, table: str) -> Iterator[list[pa.Array]]:
        """The query's rows as bronze text, BATCH_ROWS at a time, one string array per column (PostgreSQL: through
        a server-side cursor)."""
        batch = BATCH_ROWS
        if self.dialect == "postgresql":
            cur = self.conn.cursor(name=f"bronze_{uuid.uuid4().hex}")
            cur.itersize = batch
        else:
            cur = self.conn.cursor()
        try:
            cur.execute(sql)
            rows = cur.fetchmany(batch)
            renderers = self._renderers(cur.description, table)
            while rows:
                yield [_text_column(values, r) for values, r in zip(zip(*rows), renderers)]
                rows = cur.fetchmany(batch)
        finally:
            cur.close()

    def _renderers(self, description: Any, table: str) -> list[db_text.Render]:
        if self.dialect == "postgresql":
            return db_text.postgres_renderers(description)
        declared = dict(self.conn.execute(jdbc.declared_types_query(table)).fetchall())
        return db_text.sqlite_renderers([declared.get(d[0], "") for d in description])


@dataclass(frozen=True)
class DbSource:
    """Where the rows come from: the URL without userinfo, the credentials apart, the bronze table it feeds."""

    url: str
    name: str
    user: str = ""
    password: str = field(default="", repr=False)

    def _connect(self) -> Any:
        if jdbc.dialect_of(self.url) == "sqlite":
            path = sqlite_path(self.url)
            if path == ":memory:":
                return sqlite3.connect(path)
            if not os.path.isfile(path):  # SQLite would silently create a missing database file
                raise SourceUnavailableError(f"source {self.name} unreachable: SQLite database {path} does not exist")
            conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None)
            conn.execute("BEGIN")  # one read transaction: the counts and the rows see the same data
            return conn
        dsn, params = postgres_params(self.url)
        credentials = {k: v for k, v in (("user", self.user), ("password", self.password)) if v}
        conn = psycopg2.connect(dsn, **{**params, **credentials})
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        psycopg2.extras.register_default_json(conn, loads=lambda text: text)  # keep JSON as the text it was
        psycopg2.extras.register_default_jsonb(conn, loads=lambda text: text)
        return conn

    @contextmanager
    def session(self) -> Iterator[Session]:
        """An open connection for the block; driver errors leave it as SourceUnavailableError or SourceQueryError."""
        try:
            conn = self._connect()
            try:
                yield Session(conn, jdbc.dialect_of(self.url))
            finally:
                conn.close()
        except (sqlite3.Error, psycopg2.Error) as exc:
            error = SourceUnavailableError if is_unavailable(exc) else SourceQueryError
            raise error(redact(f"source {self.name} at {self.url} failed: {_cause(exc)}")) from None
