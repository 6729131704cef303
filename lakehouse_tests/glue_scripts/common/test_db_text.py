"""Database values become the bronze text Spark's JDBC read + `cast(... as string)` gave (measured on Spark 3.5),
per source type, through the real drivers: PostgreSQL via psycopg2, SQLite via sqlite3."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from glue_scripts.common.db_source import DbSource
from glue_scripts.common.db_text import java_double

# (column type, value inserted, text Spark gave)
POSTGRES: list[tuple[str, Any, str | None]] = [
    ("integer", 5, "5"), ("bigint", 12345678901234, "12345678901234"), ("smallint", 3, "3"),
    ("real", 1.1, "1.1"), ("real", 3.4e38, "3.4E38"),
    ("double precision", 1e10, "1.0E10"), ("double precision", 0.0001, "1.0E-4"),
    ("double precision", 123.456, "123.456"), ("double precision", 12345678.9, "1.23456789E7"),
    ("double precision", 1234567.0, "1234567.0"), ("double precision", float("nan"), "NaN"),
    ("numeric", "10.00", "10.000000000000000000"), ("numeric", "0", "0E-18"),
    ("numeric", "0.0000001", "1.00000000000E-7"), ("numeric", "0.000001", "0.000001000000000000"),
    ("numeric", "12345678901234567890.5", "12345678901234567890.500000000000000000"),
    ("numeric(15,2)", "173665.47", "173665.47"), ("numeric(15,2)", "0", "0.00"), ("numeric(5,2)", "-1.5", "-1.50"),
    ("date", "1996-01-02", "1996-01-02"),
    ("timestamp", "2024-01-02 03:00:00", "2024-01-02 03:00:00"),
    ("timestamp", "2024-01-02 03:00:00.5", "2024-01-02 03:00:00.5"),
    ("timestamp", "0099-01-02 03:00:00.000123", "0099-01-02 03:00:00.000123"),
    ("timestamptz", "2024-01-02 03:00:00+02", "2024-01-02 01:00:00"),  # UTC, whatever the server's time zone
    ("time", "03:04:05", "1970-01-01 03:04:05"),
    ("boolean", True, "true"), ("text", " x ", " x "), ("varchar(5)", "ab", "ab"), ("char(5)", "ab", "ab   "),
    ("text", None, None), ("integer", None, None), ("date", None, None),
    ("jsonb", '{"a": 1}', '{"a": 1}'),
    ("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    ("bytea", b"A", "A"), ("integer[]", [1, 2], "[1, 2]"), ("text[]", ["a", "b c"], "[a, b c]"),
]
# SQLite: where Spark's sqlite-jdbc mapping kept the value, the same text; where it lost it, the value as stored.
SQLITE: list[tuple[str, Any, str | None]] = [
    ("INTEGER", 5, "5"), ("REAL", 1.5, "1.5"), ("REAL", 1e10, "1.0E10"), ("REAL", 0.0001, "1.0E-4"),
    ("DOUBLE", 1e-5, "1.0E-5"), ("FLOAT", 2.25, "2.25"), ("BIGINT", 7, "7"),
    ("NUMERIC", "10.00", "10.000000000000000000"), ("NUMERIC", "10.5", "10.500000000000000000"),
    ("NUMERIC(15,2)", "173665.47", "173665.47"), ("DECIMAL(15,2)", "10.00", "10.00"),
    ("TIMESTAMP", "2024-01-02 03:00:00", "2024-01-02 03:00:00"), ("BOOLEAN", 1, "true"),
    ("TEXT", " x ", " x "), ("VARCHAR(5)", "ab", "ab"), ("TEXT", 42, "42"), ("BLOB", b"AB", "AB"),
    ("TEXT", None, None), ("INTEGER", None, None),
    # Spark: 1942892530 (wrapped to 32 bits), the read failed, 2024-01-02 (cut), 0 and 0.0 (not numbers)
    ("INTEGER", 12345678901234, "12345678901234"), ("DATE", "1996-01-02", "1996-01-02"),
    ("DATETIME", "2024-01-02 03:00:00.5", "2024-01-02 03:00:00.5"), ("INTEGER", "abc", "abc"), ("REAL", "abc", "abc"),
]


def _texts(source: DbSource, table: str) -> list[str | None]:
    with source.session() as db:
        [columns] = list(db.stream(f"SELECT * FROM {table}", table))
    return [c[0].as_py() for c in columns]


def test_postgres_values_render_as_spark_rendered_them(postgres_url: str) -> None:
    columns = ", ".join(f"c{i} {kind}" for i, (kind, _, _) in enumerate(POSTGRES))
    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS typed")
        cur.execute(f"CREATE TABLE typed ({columns})")
        cur.execute(f"INSERT INTO typed VALUES ({', '.join('%s' for _ in POSTGRES)})",
                    [psycopg2.Binary(v) if isinstance(v, bytes) else v for _, v, _ in POSTGRES])
        cur.execute("SELECT current_database()")
        database = cur.fetchone()[0]
        cur.execute(f"ALTER DATABASE {database} SET timezone = 'Asia/Tokyo'")
    host = postgres_url.removeprefix("postgresql://postgres@")
    try:
        texts = _texts(DbSource(f"jdbc:postgresql://{host}", "db__typed", user="postgres"), "typed")
    finally:
        with psycopg2.connect(postgres_url) as conn, conn.cursor() as cur:
            cur.execute(f"ALTER DATABASE {database} RESET timezone")
            cur.execute("DROP TABLE typed")
    assert list(zip([k for k, _, _ in POSTGRES], texts)) == [(k, t) for k, _, t in POSTGRES]


def test_sqlite_values_render_as_spark_rendered_them_or_as_stored(tmp_path: Path) -> None:
    path = tmp_path / "typed.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TABLE typed ({', '.join(f'c{i} {kind}' for i, (kind, _, _) in enumerate(SQLITE))})")
        conn.execute(f"INSERT INTO typed VALUES ({', '.join('?' for _ in SQLITE)})", [v for _, v, _ in SQLITE])
    texts = _texts(DbSource(f"jdbc:sqlite:{path}", "db__typed"), "typed")
    assert list(zip([k for k, _, _ in SQLITE], texts)) == [(k, t) for k, _, t in SQLITE]


@pytest.mark.parametrize(("value", "text"), [
    (0.0, "0.0"), (-0.0, "-0.0"), (-2.5, "-2.5"), (0.001, "0.001"), (0.000999, "9.99E-4"),
    (9999999.0, "9999999.0"), (1e7, "1.0E7"), (-1.5e-300, "-1.5E-300"), (float("inf"), "Infinity"),
    (float("-inf"), "-Infinity"), (100.0, "100.0"),
])
def test_doubles_follow_java_double_to_string(value: float, text: str) -> None:
    assert java_double(value) == text
