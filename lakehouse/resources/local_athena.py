"""Athena, emulated locally: DuckDB over views on the catalogued Parquet files, read-only, nothing else attached.

Imports no Dagster, so `lakehouse query` answers in about a second. Each query gets a fresh in-memory
DuckDB that holds only the tables the query names, as views on the partitions the catalog lists; then
external access is switched off (reads allowed only under those tables' locations) and the
configuration locked, so no statement can reach another file, an extension or a setting.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from glue_scripts.common.fs import filesystem_for
from lakehouse.resources.athena_sql import RULE, CatalogStatement, QueryError, ReadQuery, parse
from lakehouse.resources.catalog_files import TableEntry, read_entries

_MISSING_COLUMN = re.compile(r'(?:Referenced column|column named) "([^"]+)"')
_MISSING_FUNCTION = re.compile(r'Function with name "?([\w.]+)"? does not exist')
_ERROR_KIND = re.compile(r"^[A-Za-z ]+ Error: ")


class LocalAthena:
    """Runs Athena (Trino) SQL over the tables that `tables()` lists and returns Arrow."""

    def __init__(self, tables: Callable[[], list[TableEntry]], where: str = "the catalog") -> None:
        self._tables = tables
        self._where = where

    @classmethod
    def over(cls, catalog: Path) -> LocalAthena:
        """The engine over the local catalog's files under `catalog`."""
        return cls(lambda: read_entries(catalog) if catalog.is_dir() else [], str(catalog))

    def query(self, sql: str) -> pa.Table:
        """Run one statement: a read-only query on DuckDB, or SHOW / DESCRIBE from the catalog."""
        statement = parse(sql)
        entries = self._tables()
        if isinstance(statement, CatalogStatement):
            return answer(statement, Tables(entries, self._where))
        return self._run(statement, Tables(entries, self._where))

    def _run(self, statement: ReadQuery, tables: Tables) -> pa.Table:
        used: dict[tuple[str, str], TableEntry] = {}
        for reference in statement.tables:
            entry = tables.find(reference.db or None, reference.name)
            reference.set("db", exp.to_identifier(entry.database))
            used[(entry.database, entry.name)] = entry
        con = None
        try:
            con = connect(list(used.values()))
            result = con.sql(statement.duckdb_sql())
            return result.to_arrow_table() if result is not None else pa.table({})
        except duckdb.Error as error:
            raise QueryError(_engine_message(error, list(used.values()))) from error
        finally:
            if con is not None:
                con.close()


class Tables:
    """The catalogued tables, looked up the way the error messages need: close matches and what exists."""

    def __init__(self, entries: list[TableEntry], where: str) -> None:
        self.entries = entries
        self.where = where

    def databases(self) -> list[str]:
        """Databases that hold at least one table."""
        return sorted({e.database for e in self.entries})

    def find(self, database: str | None, name: str) -> TableEntry:
        """The entry of `[database.]name` (case-insensitive); an unqualified name must be unique."""
        if not self.entries:
            raise QueryError(f"no tables yet: run `lakehouse run` first ({self.where} is empty)")
        matches = [e for e in self.entries if e.name.lower() == name.lower()
                   and (database is None or e.database.lower() == database.lower())]
        if len(matches) == 1:
            return matches[0]
        if matches:
            options = ", ".join(f"{e.database}.{e.name}" for e in matches)
            raise QueryError(f"table {name} is in several databases: name one of {options}")
        if database is not None and database.lower() not in {d.lower() for d in self.databases()}:
            raise QueryError(f"no database {database}{_close(database, self.databases())}; "
                             f"the catalog holds {', '.join(self.databases())}")
        wanted = f"{database}.{name}" if database else name
        scope = [e for e in self.entries if database is None or e.database.lower() == database.lower()]
        close = _close(name, [e.name for e in scope], [f"{e.database}.{e.name}" for e in scope])
        held = [e.name if database else f"{e.database}.{e.name}" for e in scope]
        scope_label = f"{database} holds" if database else "tables"
        raise QueryError(f"no table {wanted}{close}; {scope_label}: {_listing(held)}")


def _close(word: str, pool: list[str], shown: list[str] | None = None) -> str:
    """' (did you mean X or Y?)' for the names in `pool` close to `word`, each shown as its peer in `shown`."""
    shown = shown or pool
    found = difflib.get_close_matches(word.lower(), list(dict.fromkeys(p.lower() for p in pool)), n=3, cutoff=0.6)
    picks = [s for f in found for p, s in zip(pool, shown) if p.lower() == f]
    return f" (did you mean {' or '.join(dict.fromkeys(picks))}?)" if picks else ""


def _listing(names: list[str], limit: int = 20) -> str:
    unique = sorted(dict.fromkeys(names))
    more = f", … ({len(unique) - limit} more: SHOW TABLES)" if len(unique) > limit else ""
    return ", ".join(unique[:limit]) + more


def answer(statement: CatalogStatement, tables: Tables) -> pa.Table:
    """SHOW / DESCRIBE as Athena answers them, from the catalog entries."""
    if statement.kind == "databases":
        names = [d for d in tables.databases() if _matches(d, statement.pattern)]
        return pa.table({"database_name": pa.array(names, pa.string())})
    if statement.kind == "tables":
        if statement.database is not None and statement.database.lower() not in {d.lower() for d in tables.databases()}:
            if not tables.entries:
                raise QueryError(f"no tables yet: run `lakehouse run` first ({tables.where} is empty)")
            raise QueryError(f"no database {statement.database}{_close(statement.database, tables.databases())}; "
                             f"the catalog holds {', '.join(tables.databases())}")
        names = [e.name if statement.database else f"{e.database}.{e.name}" for e in tables.entries
                 if (statement.database is None or e.database.lower() == statement.database.lower())
                 and _matches(e.name, statement.pattern)]
        return pa.table({"tab_name": pa.array(names, pa.string())})
    entry = tables.find(statement.database, statement.table or "")
    if statement.kind == "columns":
        return pa.table({"field": [n for n, _ in entry.columns] + entry.partition_keys})
    if statement.kind == "partitions":
        return pa.table({"partition": pa.array(entry.partitions, pa.string())})
    rows = [(n, t, "") for n, t in entry.columns] + [(k, "string", "partition key") for k in entry.partition_keys]
    return pa.table({name: [r[i] for r in rows] for i, name in enumerate(("col_name", "data_type", "comment"))})


def _matches(name: str, pattern: str | None) -> bool:
    """Athena's SHOW pattern: `*` is any run of characters, `|` separates alternatives, case-insensitive."""
    return pattern is None or any(fnmatch.fnmatchcase(name.lower(), p.strip().lower()) for p in pattern.split("|"))


def connect(entries: list[TableEntry]) -> duckdb.DuckDBPyConnection:
    """A fresh DuckDB with a view per entry, then external access off (only these tables' folders) and locked."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    folders = []
    for entry in entries:
        _, path = filesystem_for(entry.location)
        folders.append(path.rstrip("/") + "/")
        files = [f"{path}/{p}/*.parquet" for p in entry.partitions] if entry.partition_keys else [f"{path}/*.parquet"]
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{entry.database}"')
        con.execute(
            f'CREATE OR REPLACE VIEW "{entry.database}"."{entry.name}" AS SELECT * FROM read_parquet([{listed}], '
            f"hive_partitioning = {str(bool(entry.partition_keys)).lower()}, union_by_name = true)"
        )
    con.execute("SET allowed_directories = $folders", {"folders": folders})
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _engine_message(error: duckdb.Error, used: list[TableEntry]) -> str:
    """DuckDB's error in the terms of the query: the column or function named, what exists, what to do."""
    text = str(error)
    column = _MISSING_COLUMN.search(text)
    if column and isinstance(error, duckdb.BinderException):
        names = [n for e in used for n, _ in e.columns] + [k for e in used for k in e.partition_keys]
        tables = ", ".join(f"{e.database}.{e.name}" for e in used) or "the query"
        return (f"no column {column.group(1)} in {tables}{_close(column.group(1), names)}; "
                f"columns: {_listing(names)}")
    function = _MISSING_FUNCTION.search(text)
    if function and isinstance(error, duckdb.CatalogException):
        return f"no function {function.group(1)} in the local engine (DuckDB behind sqlglot's Trino translation)"
    if isinstance(error, duckdb.PermissionException):
        return f"refused: {RULE}; Athena does not allow file access either"
    if isinstance(error, duckdb.IOException) and "No files found" in text:
        tables = ", ".join(f"{e.database}.{e.name}" for e in used)
        return f"the files of {tables} changed since they were catalogued: run `lakehouse run` again"
    first = _ERROR_KIND.sub("", text.split("\n\nLINE")[0].splitlines()[0] if text else type(error).__name__)
    return f"the query failed: {first}"
