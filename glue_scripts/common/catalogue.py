"""The table catalogue: every table of every layer by layer and name, with its declared columns and types, grain,
inputs and meaning, for the Glue jobs, the Dagster assets and checks, the bench and the tests alike.

Each table is declared once, beside the code that builds it: bronze and silver in `common/specs.py` (the keyed TPC-H
tables and the web events), their silver and quarantine columns in `transforms/silver_standardize.py` and
`transforms/silver_web.py`, the marts in `transforms/gold.py`. This module is the one place that lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from glue_scripts.common.bronze_arrow import BOOLEAN_COLUMNS
from glue_scripts.common.specs import (
    BRONZE_METADATA_COLUMNS, BRONZE_SPECS, SILVER_TABLES, BronzeSpec, EventSpec, SilverSpec, SilverTable,
)
from glue_scripts.engine.dialect import Columns
from glue_scripts.transforms.gold import MARTS, Mart
from glue_scripts.transforms.silver_standardize import quarantine_types, silver_types
from glue_scripts.transforms.silver_web import web_quarantine_types, web_types

LAYERS: tuple[str, ...] = ("bronze", "silver", "quarantine", "gold")
# What every silver day's counts reconcile with (events have no duplicates or superseded rows: both are 0).
SILVER_RECONCILES: dict[str, str] = {"bronze_rows": "contributing + exact_duplicates + superseded + quarantined"}


@dataclass(frozen=True)
class Table:
    """One table of one layer: its declared columns (what every write casts to), the columns that identify a row
    (empty where none do: bronze and quarantine keep every delivery, events have no key), the `layer/table`
    tables it is built from, what a row means, and what its totals reconcile with (measure -> what it equals:
    silver's per-day counts, a mart's totals computed straight from silver)."""

    layer: str
    name: str
    columns: Columns
    grain: tuple[str, ...]
    inputs: tuple[str, ...]
    description: str
    reconcile: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """`layer/table`, the Dagster asset key's path and the table's folder under its layer."""
        return f"{self.layer}/{self.name}"


def bronze(spec: BronzeSpec) -> Table:
    """A bronze table: every source column as the raw string delivered (a parser's flag as a boolean), then the
    ingestion metadata."""
    data = tuple((c, "boolean" if c in BOOLEAN_COLUMNS else "string") for c in spec.columns)
    metadata = tuple((c, "timestamp" if c == "_ingested_at" else "string") for c in BRONZE_METADATA_COLUMNS)
    return Table("bronze", spec.name, (*data, *metadata), (), (),
                 f"One row per {spec.entity} record as the {spec.source} source delivered it on the ingestion day, "
                 "every value the raw string, with its ingestion metadata.")


def silver(table: SilverTable) -> Table:
    """A silver table: typed and standardized; keyed tables hold one current row per primary key."""
    if isinstance(table, EventSpec):
        return Table("silver", table.name, web_types(), (), (f"bronze/{table.bronze}",),
                     "One row per parsed web access log line (timestamp, client, method, path, status, bytes, "
                     "referrer, user agent, customer and part keys where present, bot flag); malformed lines go to "
                     "quarantine.", SILVER_RECONCILES)
    refs = tuple(dict.fromkeys(fk.table for fk in table.foreign_keys))
    return Table("silver", table.name, silver_types(table), table.primary_key,
                 (f"bronze/{table.bronze}", *(f"silver/{r}" for r in refs)), _keyed_description(table),
                 SILVER_RECONCILES)


def _keyed_description(spec: SilverSpec) -> str:
    refs = ", ".join(dict.fromkeys(fk.table for fk in spec.foreign_keys)) or "none"
    return (f"TPC-H `{spec.name}`: one current row per ({', '.join(spec.primary_key)}), the latest valid version by "
            f"`{spec.version_column}` across all ingestion dates; trimmed, upper-cased codes, typed. "
            f"Rows breaking a rule go to `quarantine/{spec.name}`; rows whose references ({refs}) have not arrived "
            "are held there and released when they do. Partitioned by the ingestion date that wrote each winning row.")


def quarantine(table: SilverTable) -> Table:
    """A quarantine table: the rows silver rejected or holds, raw values as delivered, with their rules."""
    columns = web_quarantine_types() if isinstance(table, EventSpec) else quarantine_types(table)
    return Table("quarantine", table.name, columns, (), (f"bronze/{table.bronze}",),
                 f"One row per {table.name} row silver rejected or holds: the raw values as delivered, the rules it "
                 "broke (`_rules`), `rejected` or `held` (`_status`), where it came from; partitioned by its batch.")


def gold(mart: Mart) -> Table:
    """A gold mart: one row per grain key, equal to a full recompute from the current silver tables."""
    how = (f" Summed from partial aggregates kept per `{mart.partials.source}` silver partition, equal to a full "
           "recompute." if mart.partials else " Full recompute from the current silver on each build.")
    return Table("gold", mart.name, mart.columns, mart.grain, tuple(f"silver/{t}" for t in mart.inputs),
                 mart.description + how, dict(mart.reconcile))


CATALOGUE: dict[str, dict[str, Table]] = {
    "bronze": {s.name: bronze(s) for s in BRONZE_SPECS},
    "silver": {t.name: silver(t) for t in SILVER_TABLES},
    "quarantine": {t.name: quarantine(t) for t in SILVER_TABLES},
    "gold": {m.name: gold(m) for m in MARTS},
}


def table(layer: str, name: str) -> Table:
    """The catalogue entry of `layer/name`; an unknown one is refused naming what the layer has."""
    tables = CATALOGUE.get(layer)
    if tables is None:
        raise KeyError(f"no layer {layer!r}; the catalogue has {', '.join(LAYERS)}")
    if name not in tables:
        raise KeyError(f"no table {layer}/{name}; {layer} has {', '.join(tables)}")
    return tables[name]


def names(layer: str) -> tuple[str, ...]:
    """The tables of `layer`, in declaration order."""
    return tuple(CATALOGUE[layer])
