"""The ground-truth manifest: every delivered row and seeded fault, counted per bronze table and day."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lakehouse.sources.entities import SILVER_TABLE
from lakehouse.sources.faults import RULES

KIND_COUNTER = {"duplicate": "exact_duplicates", "stale": "stale_versions", "superseded": "superseded_versions",
                "varied": "format_variations"}


def empty_counts() -> dict[str, Any]:
    """Zeroed counters for one table and day."""
    return {"rows_delivered": 0, "exact_duplicates": 0, "stale_versions": 0, "superseded_versions": 0,
            "format_variations": 0, "bad_rows": {r: 0 for r in RULES}}


class Tally:
    """Counts per bronze table and ingestion day, filled while the sources are written."""

    def __init__(self, days: list[str]) -> None:
        self.days = days
        self.tables: dict[str, dict[str, Any]] = {}
        for name, silver in SILVER_TABLE.items():
            source, entity = name.split("__")
            self.tables[name] = {"source": source, "entity": entity, "silver_table": silver,
                                 "days": {d: empty_counts() for d in days}}

    def day(self, table: str, day: str) -> dict[str, Any]:
        """The mutable counters of one table and day."""
        return self.tables[table]["days"][day]

    def add(self, table: str, day: str, kind: str, rule: str | None = None) -> None:
        """Count one delivered row of fault `kind` ('clean', 'varied', 'duplicate', 'stale', 'superseded', 'bad')."""
        counts = self.tables[table]["days"][day]
        counts["rows_delivered"] += 1
        if kind == "bad":
            counts["bad_rows"][rule] += 1
        elif kind in KIND_COUNTER:
            counts[KIND_COUNTER[kind]] += 1

    def finish(self) -> dict[str, Any]:
        """The per-table section with totals summed over days."""
        for table in self.tables.values():
            totals: dict[str, Any] = {}
            for counts in table["days"].values():
                for key, value in counts.items():
                    if isinstance(value, dict):
                        inner = totals.setdefault(key, {})
                        for k, v in value.items():
                            inner[k] = inner.get(k, 0) + v
                    elif isinstance(value, int):
                        totals[key] = totals.get(key, 0) + value
            table["totals"] = totals
        return self.tables


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    """Write `sources/manifest.json` with sorted keys (byte-identical for the same world)."""
    path = root / "sources" / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def load_manifest(root: Path) -> dict[str, Any]:
    """The manifest of the world under `root`."""
    return json.loads((Path(root) / "sources" / "manifest.json").read_text())
