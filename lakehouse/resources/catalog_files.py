"""The local catalog's files: one JSON `TableEntry` per table under `<catalog>/<database>/<table>.json`.

Read without Dagster, so `lakehouse query` starts in a second; `LocalCatalog` is the resource around it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TableEntry:
    """One catalogued table: database, name, location, columns as (name, type), partition keys and values."""

    database: str
    name: str
    location: str
    columns: list[tuple[str, str]]
    partition_keys: list[str]
    partitions: list[str]


def read_entries(catalog: Path, database: str | None = None) -> list[TableEntry]:
    """Every stored entry (of one database if given), sorted by database and name."""
    pattern = f"{database}/*.json" if database else "*/*.json"
    return [_load_entry(p) for p in sorted(catalog.glob(pattern))]


def write_entry(catalog: Path, entry: TableEntry) -> None:
    """Store one entry atomically (write a temporary file, then rename it over the old one)."""
    target = catalog / entry.database / f"{entry.name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(asdict(entry), indent=1))
    os.replace(tmp, target)


def remove_entry(catalog: Path, database: str, name: str) -> None:
    """Forget one table."""
    (catalog / database / f"{name}.json").unlink(missing_ok=True)


def _load_entry(path: Path) -> TableEntry:
    data: dict[str, Any] = json.loads(path.read_text())
    data["columns"] = [tuple(c) for c in data["columns"]]
    return TableEntry(**data)
