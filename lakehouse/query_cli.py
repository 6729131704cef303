"""`lakehouse query`: one Athena (Trino) statement over the catalogued tables, printed as a table, CSV or JSON.

Builds only the query engine from the settings (no Dagster definitions): locally DuckDB over the catalog's
files, on the aws profile the Athena resource. Every failure is one line naming what is wrong, exit code 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pyarrow as pa
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.pager import Pager
from rich.rule import Rule
from rich.table import Table

from lakehouse.resources import query_engine
from lakehouse.resources.athena_sql import QueryError
from lakehouse.settings import SettingsError, load_settings

FORMATS = ("table", "csv", "json")
# Below this width per column a result reads better as one block per row than as squeezed columns.
MIN_COLUMN_WIDTH = 10


class QueryFailed(click.ClickException):
    """A query that cannot run: printed as one `Error:` line, exit code 2 as for click's usage errors."""

    exit_code = 2


def run_query(sql: str, fmt: str, root: Path | None) -> None:
    """Run `sql` on the profile's engine and print the result in `fmt` on stdout."""
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # sqlglot warns on statements it parses as commands
    env = {**os.environ, "LAKEHOUSE_ROOT": str(root)} if root is not None else os.environ
    try:
        settings = load_settings(env)
    except SettingsError as error:
        raise QueryFailed(str(error)) from error
    if not settings.is_aws and not settings.root.is_dir():
        raise QueryFailed(f"no lakehouse at {settings.root}: run `lakehouse run` first (or pass --root)")
    try:
        result = query_engine(settings).query(sql)
    except QueryError as error:
        raise QueryFailed(" ".join(str(error).split())) from error
    if fmt == "json":
        click.echo(json.dumps(rows(result), indent=1, default=json_value, ensure_ascii=False))
    elif fmt == "csv":
        write_csv(result, sys.stdout)
    else:
        print_table(result, Console())
        Console(stderr=True).print(f"{result.num_rows:,} row{'' if result.num_rows == 1 else 's'}", style="dim")


def rows(result: pa.Table) -> list[dict[str, Any]]:
    """The result as Python rows; maps become dicts (the last value wins for a repeated key), as in JSON."""
    return result.to_pylist(maps_as_pydicts="lossy")


def json_value(value: object) -> object:
    """JSON for what Arrow hands back beyond JSON's types: dates as ISO text, decimals as numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def cell(value: object) -> str:
    """One value as text: NULL empty, booleans lowercase, arrays, maps and rows as JSON, the rest as Athena shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=json_value, ensure_ascii=False)
    if isinstance(value, (dt.date, dt.time, bytes)):
        return str(json_value(value))
    return str(value)


def write_csv(result: pa.Table, out: Any) -> None:
    """The header, then one line per row; nested values as JSON text."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(result.column_names)
    for row in rows(result):
        writer.writerow([cell(v) for v in row.values()])


def print_table(result: pa.Table, console: Console, pager: Pager | None = None) -> None:
    """A rich table that folds long values; too many columns for the width become one block per row; a result
    taller than the terminal goes through the pager (the system's, `$PAGER`, unless one is given)."""
    renderable = _renderable(result, console)
    if console.is_terminal and len(console.render_lines(renderable, console.options, pad=False)) > console.height - 2:
        with console.pager(pager, styles=False):
            console.print(renderable)
    else:
        console.print(renderable)


def _renderable(result: pa.Table, console: Console) -> RenderableType:
    names, values = result.column_names, rows(result)
    table = Table()
    for name in names:
        table.add_column(name, overflow="fold")
    for row in values:
        table.add_row(*(cell(v) for v in row.values()))
    fits = Measurement.get(console, console.options.update_width(10**6), table).maximum <= console.width
    if fits or len(names) * MIN_COLUMN_WIDTH <= console.width:
        return table
    blocks: list[RenderableType] = []
    for number, row in enumerate(values, 1):
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for name, value in row.items():
            grid.add_row(name, cell(value))
        blocks += [Rule(f"row {number}", align="left"), grid]
    return Group(*blocks)
