"""Row counts of every catalogued table, read through the query engine, for the run summary."""

from __future__ import annotations

from lakehouse.settings import load_settings


def table_rows() -> dict[str, int]:
    """`database.table` → row count, for every table the local catalog holds."""
    from lakehouse.definitions import build_definitions

    resources = build_definitions(load_settings()).resources
    catalog, engine = resources["catalog"], resources["athena"]
    counts: dict[str, int] = {}
    for entry in catalog.tables():
        name = f"{entry.database}.{entry.name}"
        counts[name] = int(engine.query(f'SELECT count(*) AS n FROM "{entry.database}"."{entry.name}"').column(0)[0].as_py())
    return counts
