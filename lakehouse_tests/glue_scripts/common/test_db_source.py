"""db_source: a JDBC URL becomes driver parameters (bad ones refused in one line), and a source that answered no
is told apart from one that could not be reached, on a real PostgreSQL server and a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from glue_scripts.common.db_source import (
    DbSource, SourceQueryError, SourceUnavailableError, postgres_params, sqlite_path,
)
from glue_scripts.common.transient import is_transient_message


def test_jdbc_url_parameters_become_libpq_parameters() -> None:
    dsn, params = postgres_params("jdbc:postgresql://h1:5433,h2/tpch?connectTimeout=3&ssl=true&currentSchema=src")
    assert dsn == "postgresql://h1:5433,h2/tpch"
    assert params == {"connect_timeout": "3", "sslmode": "require", "options": "-c search_path=src"}
    assert postgres_params("jdbc:postgresql:tpch") == ("postgresql://localhost/tpch", {"connect_timeout": "10"})
    with pytest.raises(ValueError, match="unsupported JDBC URL parameter 'prepareThreshold'; supported: "):
        postgres_params("jdbc:postgresql://h/db?prepareThreshold=0")
    assert sqlite_path("jdbc:sqlite:file:/data/src.db?journal_mode=WAL") == "/data/src.db"
    assert sqlite_path("jdbc:sqlite::memory:") == ":memory:"


def test_a_database_that_refuses_is_not_transient_one_that_is_away_is(postgres_url: str) -> None:
    host = postgres_url.removeprefix("postgresql://postgres@").rsplit("/", 1)[0]
    with pytest.raises(SourceQueryError, match='db__orders at jdbc:postgresql://.*database "nowhere" does not exist'):
        with DbSource(f"jdbc:postgresql://{host}/nowhere", "db__orders", "postgres", "pw-4711").session():
            pass
    with pytest.raises(SourceUnavailableError) as away:
        away_url = "jdbc:postgresql://127.0.0.1:1/db?connectTimeout=2"
        with DbSource(away_url, "db__orders", "postgres", "pw-4711").session():
            pass
    assert is_transient_message(str(away.value)) and "pw-4711" not in str(away.value)


def test_sqlite_is_opened_read_only_and_a_locked_database_is_transient(tmp_path: Path) -> None:
    path = tmp_path / "src.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (a TEXT)")
    source = DbSource(f"jdbc:sqlite:{path}", "db__orders")
    with pytest.raises(SourceQueryError, match="readonly"), source.session() as db:
        db.conn.execute("INSERT INTO t VALUES ('x')")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(SourceUnavailableError, match="database is locked"), source.session() as db:
            db.conn.execute("PRAGMA busy_timeout = 0")
            db.counts("SELECT COUNT(*) AS n FROM t")
    finally:
        writer.rollback()
        writer.close()
