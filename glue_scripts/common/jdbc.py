"""Database sources named by JDBC URL: which database, credentials kept out of the URL, and the watermark SQL for
SQLite and PostgreSQL (run through their Python DB-API drivers, glue_scripts/common/db_source.py).

The change tables hold `updated_at` as text. A row belongs to the window of day D when its `updated_at` is in the
canonical form `YYYY-MM-DD HH:MM:SS` and sorts into [D 00:00:00, D+1 00:00:00). Every other row (NULL, `2024-1-2
10:00:00`, ISO `T`, fractional seconds, padding) is "outside every window": no day's string comparison would find
it on its day, so the job extracts those rows separately, and silver quarantines the ones it cannot parse.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

DIALECTS = {"jdbc:sqlite:": "sqlite", "jdbc:postgresql:": "postgresql"}
VERSION_COLUMN = "updated_at"
_USERINFO = re.compile(r"^(jdbc:[a-z]+://)([^/@]*)@")
# PostgreSQL: the shape with plausible field ranges; SQLite: datetime() gives the value back unchanged only then.
_PG_CANONICAL = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]) ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"


def dialect_of(url: str) -> str:
    """`sqlite` or `postgresql` for a JDBC URL; ValueError for an unsupported database."""
    dialect = next((d for prefix, d in DIALECTS.items() if url.startswith(prefix)), None)
    if dialect is None:
        raise ValueError(f"unsupported JDBC URL; expected one of {sorted(DIALECTS)}")
    return dialect


def split_credentials(url: str) -> tuple[str, str, str]:
    """(URL without userinfo, user, password) of `jdbc:postgresql://user:password@host/db`; the driver gets the
    credentials as connection properties, so no error it raises can echo them."""
    match = _USERINFO.match(url)
    if not match:
        return url, "", ""
    user, _, password = match.group(2).partition(":")
    return match.group(1) + url[match.end():], unquote(user), unquote(password)


def canonical(url: str, column: str = VERSION_COLUMN) -> str:
    """SQL predicate: `column` is a canonical version timestamp (never NULL-valued, so NOT works on it)."""
    if url.startswith("jdbc:sqlite:"):
        return f"({column} IS NOT NULL AND datetime({column}) IS {column})"
    return f"COALESCE({column} ~ '{_PG_CANONICAL}', false)"


def _cols(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def window_query(url: str, table: str, columns: tuple[str, ...], start: str, end: str) -> str:
    """The query selecting one window's rows, spec columns in spec order."""
    return (f"SELECT {_cols(columns)} FROM {table} WHERE {canonical(url)} "
            f"AND {VERSION_COLUMN} >= '{start}' AND {VERSION_COLUMN} < '{end}'")


def outside_query(url: str, table: str, columns: tuple[str, ...]) -> str:
    """The query selecting the rows outside every window (no canonical version)."""
    return f"SELECT {_cols(columns)} FROM {table} WHERE NOT {canonical(url)}"


def declared_types_query(table: str) -> str:
    """SQLite: each column's declared type (a SQLite value carries its own type; the declaration gives the scale)."""
    return f"SELECT name, type FROM pragma_table_info('{table}')"


def counts_query(url: str, table: str, start: str, end: str) -> str:
    """The source's own counts: the window's rows, rows up to the window's end, and rows outside every window.

    Each is COALESCEd: SQLite gives a NULL SUM over an empty table.
    """
    ok = canonical(url)
    sums = {"in_window": f"{ok} AND {VERSION_COLUMN} >= '{start}' AND {VERSION_COLUMN} < '{end}'",
            "through_window": f"{ok} AND {VERSION_COLUMN} < '{end}'", "outside": f"NOT {ok}"}
    cols = ", ".join(f"COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS {name}" for name, cond in sums.items())
    return f"SELECT {cols} FROM {table}"
