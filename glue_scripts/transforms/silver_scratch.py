"""From-scratch silver: what one table's silver and quarantine are as a pure function of all its bronze partitions.

This is the definition the incremental `silver_build` runs must reproduce whatever their order: every bronze row
of every partition standardized, then `silver_merge.settle` over all of them at once, with the referenced tables'
silver (their own from-scratch result) for the foreign keys. Current rows form silver, rejected and held rows
quarantine; both are partitioned by `_ingestion_date`, the batch that delivered the row. `_run_id` is not part of
it: it records which run wrote a row, not what the row is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from glue_scripts.common.specs import SilverSpec
from glue_scripts.transforms.silver_merge import STATUS, quarantine_rows, settle
from glue_scripts.transforms.silver_standardize import conform_raw, silver_columns, standardize


def from_scratch(
    spec: SilverSpec, bronze: Sequence[DataFrame], refs: Mapping[str, DataFrame | None]
) -> tuple[DataFrame, DataFrame]:
    """(silver, quarantine) without `_run_id` from the table's bronze partitions, each conformed on its own schema."""
    rows = reduce(DataFrame.unionByName, [standardize(conform_raw(b, spec), spec) for b in bronze])
    settled = settle(rows, spec, refs)
    silver = settled.where(F.col(STATUS) == "current").select(*[c for c in silver_columns(spec) if c != "_run_id"])
    return silver, quarantine_rows(settled, spec)
