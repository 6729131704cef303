"""Data-quality measures of a whole silver table as canonical SQL, for the blocking asset checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glue_scripts.common.specs import SilverSpec
from glue_scripts.engine.dialect import literal


def measures_sql(spec: SilverSpec, table: str, refs: Mapping[str, str]) -> tuple[str, list[str], list[str]]:
    """(one-row SQL of rows, null keys, distinct non-null keys, each violation count `v<i>` and each foreign key's
    orphans `o<i>`; the violation names; the foreign key names)."""
    pk = spec.primary_key
    violations = {f"{column} in ({', '.join(values)})": f"NOT {column} IN ({', '.join(literal(v) for v in values)})"
                  for column, values in spec.accepted_values.items()}
    violations.update({f"{c.name} >= 0": f"{c.name} < 0" for c in spec.columns if c.non_negative})
    null_any = " OR ".join(f"{c} IS NULL" for c in pk)
    counts = [f"sum(CASE WHEN coalesce({cond}, false) THEN 1 ELSE 0 END) AS v{i}" for i, cond in enumerate(violations.values())]
    keys = f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(pk)} FROM {table} WHERE NOT ({null_any})) AS k"
    orphans = orphans_sql(spec, table, refs)
    counts += [f"({q}) AS o{i}" for i, q in enumerate(orphans.values())]
    sql = (f"SELECT count(*) AS n, sum(CASE WHEN {null_any} THEN 1 ELSE 0 END) AS null_keys, "
           f"({keys}) AS distinct_keys{''.join(', ' + c for c in counts)} FROM {table}")
    return sql, list(violations), list(orphans)


def orphans_sql(spec: SilverSpec, table: str, refs: Mapping[str, str]) -> dict[str, str]:
    """Per foreign key (`cols -> table`), SQL counting the rows whose non-null key misses the referenced relation."""
    out = {}
    for fk in spec.foreign_keys:
        keys = ", ".join(f"{r} AS {c}" for c, r in zip(fk.columns, fk.ref_columns))
        on = " AND ".join(f"c.{col} = p.{col}" for col in fk.columns)
        present = " AND ".join(f"c.{col} IS NOT NULL" for col in fk.columns)
        out[f"{','.join(fk.columns)} -> {fk.table}"] = (
            f"SELECT count(*) FROM {table} AS c LEFT JOIN (SELECT DISTINCT {keys}, true AS hit FROM "
            f"{refs[fk.table]}) AS p ON {on} WHERE {present} AND p.hit IS NULL")
    return out


def quality(row: Mapping[str, Any], names: list[str], foreign_keys: list[str]) -> dict[str, Any]:
    """The quality dict the checks read, from the measures row and its violation and foreign key names."""
    rows, null_keys = int(row["n"]), int(row["null_keys"] or 0)
    return {
        "rows": rows,
        "null_keys": null_keys,
        "duplicate_keys": rows - null_keys - int(row["distinct_keys"] or 0),
        "orphans": {name: int(row[f"o{i}"] or 0) for i, name in enumerate(foreign_keys)},
        "violations": {name: int(row[f"v{i}"] or 0) for i, name in enumerate(names)},
    }
