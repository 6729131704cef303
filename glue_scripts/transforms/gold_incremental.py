"""Incremental gold marts as canonical SQL: partial aggregates per silver partition, re-aggregated into the mart.

A mart with `Partials` keeps one partial aggregate per partition of its source silver table (how they are stored,
matched to their partition and refreshed is the job's: glue_scripts/common/gold_job.py). Summing the partials of
the current partitions to the mart's keys and finishing the mart (averages and ratios from the summed sums and
counts, dimension joins last) gives exactly the full recompute. Builders take relation names and return SQL;
nothing here reads or writes.
"""

from __future__ import annotations

from glue_scripts.engine.dialect import literal, sql_type
from glue_scripts.transforms.gold import Mart, Partials

DAY = "_partial_day"


def partials_of(mart: Mart) -> Partials:
    """The mart's partials declaration; a full-recompute mart has none."""
    if mart.partials is None:
        raise ValueError(f"mart {mart.name!r} has no partials; it is a full recompute")
    return mart.partials


def typed_sql(spec: Partials, sql: str, keep: tuple[str, ...] = ()) -> str:
    """`keep`, then every partial column of `sql` cast to its declared type."""
    casts = [f"CAST({name} AS {sql_type(kind)}) AS {name}" for name, kind in spec.columns]
    return f"SELECT {', '.join([*keep, *casts])} FROM ({sql}) AS p"


def dated_partials_sql(spec: Partials, rows: str) -> str:
    """One partial per silver partition of `rows` (which carry `ingestion_date`): the partial grouped by its
    partition as well, the partition day in `_partial_day`."""
    dated = f"(SELECT *, ingestion_date AS {DAY} FROM {rows} AS ro)"
    return typed_sql(spec, spec.partial(dated, (DAY,)), (DAY,))


def one_partial_sql(spec: Partials, partials: str, day: str) -> str:
    """The partial of partition `day` out of `dated_partials_sql`'s rows."""
    names = ", ".join(name for name, _ in spec.columns)
    return f"SELECT {names} FROM {partials} AS pa WHERE {DAY} = {literal(day)}"


def from_partials_sql(mart: Mart, stored: str, inputs: dict[str, str]) -> str:
    """The mart from the stored partials (relation `stored`) summed to the partial keys, finished with its other
    inputs (`inputs`: silver table -> relation)."""
    spec = partials_of(mart)
    measures = [name for name, _ in spec.columns if name not in spec.keys]
    summed = f"""SELECT {', '.join(spec.keys)}, {', '.join(f'sum({m}) AS {m}' for m in measures)}
                 FROM {stored} AS st GROUP BY {', '.join(spec.keys)}"""
    others = [inputs[t] for t in mart.inputs if t != spec.source]
    return spec.finish(f"({typed_sql(spec, summed)})", *others)
