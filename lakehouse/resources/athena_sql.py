"""Athena SQL as the local engine takes it: one read-only statement over the catalogued tables.

sqlglot reads the Trino dialect. A query (SELECT, WITH, VALUES, set operations) runs; SHOW and DESCRIBE
are answered from the catalog; everything that writes, changes the session or reaches a file by path is
refused here, by its tokens and syntax tree, before DuckDB sees it (the locked engine is the backstop).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
import sqlglot.errors
from sqlglot import exp
from sqlglot.dialects.trino import Trino
from sqlglot.tokens import Token, TokenType

DIALECT = Trino()
# Statements that reach files, extensions or the engine's settings: Athena has none of them.
FILE_STATEMENTS = frozenset({"ATTACH", "CALL", "CHECKPOINT", "COPY", "DETACH", "EXPORT", "FORCE", "IMPORT", "INSTALL",
                             "LOAD", "PRAGMA", "RESET", "SET", "UNLOAD", "USE"})
WRITE_STATEMENTS = frozenset({"ALTER", "COMMENT", "CREATE", "DELETE", "DROP", "GRANT", "INSERT", "MERGE", "MSCK",
                              "OPTIMIZE", "REPLACE", "REVOKE", "TRUNCATE", "UPDATE", "VACUUM"})
# DuckDB functions that read a path, a URL or the environment: refused wherever they appear.
PATH_FUNCTIONS = frozenset({
    "delta_scan", "getenv", "glob", "iceberg_metadata", "iceberg_scan", "parquet_file_metadata", "parquet_kv_metadata",
    "parquet_metadata", "parquet_scan", "parquet_schema", "query", "query_table", "read_blob", "read_csv",
    "read_csv_auto", "read_json", "read_json_auto", "read_json_objects", "read_json_objects_auto", "read_ndjson",
    "read_ndjson_auto", "read_ndjson_objects", "read_parquet", "read_text", "read_xlsx", "sniff_csv", "sqlite_scan",
    "st_read", "postgres_scan", "mysql_scan",
})
ATHENA_CATALOG = "awsdatacatalog"
RULE = "lakehouse query is read-only and sees only the catalogued tables"


class QueryError(RuntimeError):
    """A query failed: bad SQL, an unknown table, or the engine's own error; `query_id` names an Athena query."""

    def __init__(self, message: str, query_id: str | None = None) -> None:
        super().__init__(message)
        self.query_id = query_id


@dataclass(frozen=True)
class CatalogStatement:
    """SHOW DATABASES | TABLES | COLUMNS | PARTITIONS or DESCRIBE, answered from the catalog, not the engine."""

    kind: str
    database: str | None = None
    table: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class ReadQuery:
    """One read-only query and the table references it makes (CTE names left out), to resolve in the catalog."""

    expression: exp.Query | exp.Values
    tables: tuple[exp.Table, ...]

    def duckdb_sql(self) -> str:
        """The query in DuckDB's dialect."""
        return self.expression.sql(dialect="duckdb")


def parse(sql: str) -> CatalogStatement | ReadQuery:
    """Parse one statement; refuse writes, session changes, file access and more than one statement."""
    tokens = _tokens(sql)
    statements = _split(tokens)
    if not statements:
        raise QueryError("no SQL given")
    if len(statements) != 1:
        raise QueryError(f"expected one SQL statement, got {len(statements)}")
    first = statements[0][0].text.upper()
    if first in FILE_STATEMENTS:
        raise QueryError(f"{first} is refused: {RULE}; Athena does not allow {first} either")
    if first in WRITE_STATEMENTS:
        raise QueryError(f"{first} is refused: {RULE}; the pipeline writes the tables (`lakehouse run`)")
    if first == "SHOW":
        return _show(statements[0][1].text if len(statements[0]) > 1 else "")
    if first in ("DESCRIBE", "DESC"):
        return _describe(statements[0][1:])
    _refuse_path_functions(tokens)
    try:
        expression = sqlglot.parse_one(sql, dialect=DIALECT)
    except sqlglot.errors.ParseError as error:
        raise QueryError(f"cannot parse the SQL: {_parse_message(error)}") from error
    if not isinstance(expression, (exp.Query, exp.Values)):
        raise QueryError(f"{first} is refused: only SELECT, WITH, VALUES, SHOW and DESCRIBE run here ({RULE})")
    return ReadQuery(expression, _table_references(expression))


def _tokens(sql: str) -> list[Token]:
    try:
        return DIALECT.tokenize(sql)
    except sqlglot.errors.TokenError as error:
        raise QueryError(f"cannot parse the SQL: {error}") from error


def _split(tokens: list[Token]) -> list[list[Token]]:
    statements: list[list[Token]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    return [s for s in statements if s]


def _parse_message(error: sqlglot.errors.ParseError) -> str:
    if not error.errors:
        return str(error).splitlines()[0]
    first = error.errors[0]
    near = f" near {first['highlight']!r}" if first.get("highlight") else ""
    return f"{first['description'].lower()}{near} (line {first['line']}, column {first['col']})"


def _refuse_path_functions(tokens: list[Token]) -> None:
    for token, following in zip(tokens, tokens[1:]):
        name = token.text.lower()
        called = following.token_type == TokenType.L_PAREN and token.token_type != TokenType.STRING
        if name in PATH_FUNCTIONS and called:
            raise QueryError(f"{name}() is refused: it reads files by path and {RULE}; Athena does not allow it either")


def _function_name(function: exp.Expression) -> str:
    if isinstance(function, exp.Anonymous):
        return str(function.name).lower()
    return function.sql_name().lower() if isinstance(function, exp.Func) else type(function).__name__.lower()


def _table_references(expression: exp.Query | exp.Values) -> tuple[exp.Table, ...]:
    ctes = {cte.alias_or_name.lower() for cte in expression.find_all(exp.CTE)}
    for function in expression.find_all(exp.Func):
        if _function_name(function) in PATH_FUNCTIONS:
            raise QueryError(f"{_function_name(function)}() is refused: it reads files by path and {RULE}; "
                             "Athena does not allow it either")
    tables = []
    for table in expression.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise QueryError(f"table function {_function_name(table.this)}() is refused: {RULE} "
                             "(FROM takes catalogued tables, subqueries, UNNEST and VALUES, as on Athena)")
        if table.catalog:
            if table.catalog.lower() != ATHENA_CATALOG:
                raise QueryError(f"no catalog {table.catalog}: the only catalog is {ATHENA_CATALOG}")
            table.set("catalog", None)
        if not table.db and table.name.lower() in ctes:
            continue
        tables.append(table)
    return tuple(tables)


def _show(rest: str) -> CatalogStatement:
    words = [t for t in _tokens(rest) if t.token_type != TokenType.SEMICOLON]
    head = words[0].text.upper() if words else ""
    if head in ("DATABASES", "SCHEMAS"):
        if len(words) > 1 and words[1].text.upper() == "LIKE":
            words = words[1:]
        return CatalogStatement("databases", pattern=_pattern(words[1:], "SHOW DATABASES ['pattern']"))
    if head == "TABLES":
        database, words = None, words[1:]
        if words and words[0].text.upper() in ("IN", "FROM"):
            database, words = _name(words[1:2], "SHOW TABLES IN <database>"), words[2:]
        pattern = _pattern(words, "SHOW TABLES [IN <database>] ['pattern']")
        return CatalogStatement("tables", database=database, pattern=pattern)
    if head == "COLUMNS":
        usage = "SHOW COLUMNS FROM <database>.<table>"
        if len(words) < 2 or words[1].text.upper() not in ("IN", "FROM"):
            raise QueryError(f"cannot parse the SQL: expected {usage}")
        database, table, words = _qualified(words[2:], usage)
        if words and words[0].text.upper() in ("IN", "FROM") and database is None:
            database, words = _name(words[1:2], usage), words[2:]
        _end(words, usage)
        return CatalogStatement("columns", database=database, table=table)
    if head == "PARTITIONS":
        database, table, words = _qualified(words[1:], "SHOW PARTITIONS <database>.<table>")
        _end(words, "SHOW PARTITIONS <database>.<table>")
        return CatalogStatement("partitions", database=database, table=table)
    raise QueryError("cannot parse the SQL: SHOW takes DATABASES, TABLES [IN <database>], COLUMNS FROM <table> "
                     "or PARTITIONS <table>")


def _describe(words: list[Token]) -> CatalogStatement:
    usage = "DESCRIBE <database>.<table>"
    if words and words[0].text.upper() in ("EXTENDED", "FORMATTED"):
        words = words[1:]
    database, table, words = _qualified(words, usage)
    _end(words, usage)
    return CatalogStatement("describe", database=database, table=table)


def _qualified(words: list[Token], usage: str) -> tuple[str | None, str, list[Token]]:
    """`[catalog.][database.]table` from the front of `words`, and the words after it."""
    parts = [_name(words[:1], usage)]
    words = words[1:]
    while len(words) >= 2 and words[0].token_type == TokenType.DOT:
        parts.append(_name(words[1:2], usage))
        words = words[2:]
    if len(parts) == 3 and parts[0].lower() == ATHENA_CATALOG:
        parts = parts[1:]
    if len(parts) > 2:
        raise QueryError(f"cannot parse the SQL: expected {usage}")
    return (parts[0] if len(parts) == 2 else None), parts[-1], words


def _name(words: list[Token], usage: str) -> str:
    if not words or words[0].token_type in (TokenType.STRING, TokenType.DOT, TokenType.NUMBER):
        raise QueryError(f"cannot parse the SQL: expected {usage}")
    return words[0].text


def _pattern(words: list[Token], usage: str) -> str | None:
    if not words:
        return None
    if words[0].token_type != TokenType.STRING:
        raise QueryError(f"cannot parse the SQL: expected {usage}")
    _end(words[1:], usage)
    return words[0].text


def _end(words: list[Token], usage: str) -> None:
    if words:
        raise QueryError(f"cannot parse the SQL: unexpected {words[0].text!r}; expected {usage}")
