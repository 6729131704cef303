"""A Parquet IO manager on the warehouse storage: pandas or Arrow in and out, partition-aware, atomic.

dagster-aws only ships a pickling S3 IO manager; this one stores real Parquet through the shared
write path, under `<layer>/<table>/ingestion_date=<day>/` for partitioned assets, and reads any
table a Glue job wrote (whole, or the requested partitions) back as a DataFrame.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.fs as pafs

from glue_scripts.common import writer
from glue_scripts.common.fs import filesystem_for
from lakehouse.resources.warehouse import Warehouse

PARTITION_COLUMN = "ingestion_date"


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores outputs as Parquet at `<layer>/<table>` of the warehouse and loads inputs from there."""

    warehouse: Warehouse

    def _table_uri(self, key: dg.AssetKey) -> str:
        layer, *rest = key.path
        return self.warehouse.uri(layer, *rest)

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        """Write a DataFrame or Arrow table; one partition per key, a range split by `ingestion_date`."""
        if obj is None:
            return
        table = obj if isinstance(obj, pa.Table) else pa.Table.from_pandas(obj, preserve_index=False)
        uri = self._table_uri(context.asset_key)
        if not context.has_asset_partitions:
            writer.write_arrow(table, uri, "")
        elif len(context.asset_partition_keys) == 1:
            writer.write_arrow(table, uri, f"{PARTITION_COLUMN}={context.asset_partition_keys[0]}")
        else:
            if PARTITION_COLUMN not in table.column_names:
                raise ValueError(
                    f"{context.asset_key.to_user_string()}: a run over {len(context.asset_partition_keys)} partitions "
                    f"must return a `{PARTITION_COLUMN}` column to split the output by partition"
                )
            for key in context.asset_partition_keys:
                part = table.filter(pc.equal(table[PARTITION_COLUMN].cast(pa.string()), key)).drop_columns([PARTITION_COLUMN])
                writer.write_arrow(part, uri, f"{PARTITION_COLUMN}={key}")
        context.add_output_metadata({"dagster/row_count": table.num_rows, "path": dg.MetadataValue.path(uri)})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame | pa.Table:
        """Read the upstream table (only the requested partitions when it is partitioned) as pandas, or Arrow if annotated."""
        arrow = read_table(self._table_uri(context.asset_key), _wanted_partitions(context))
        return arrow if context.dagster_type.typing_type is pa.Table else arrow.to_pandas()


def _wanted_partitions(context: dg.InputContext) -> list[str] | None:
    if not context.has_asset_partitions:
        return None
    try:
        return list(context.asset_partition_keys)
    except dg.DagsterInvariantViolationError:
        return None


def read_table(uri: str, partitions: list[str] | None = None) -> pa.Table:
    """A Parquet table as Arrow: hive partitions become a column; `partitions` filters them when given."""
    fs, path = filesystem_for(uri)
    if fs.get_file_info(path).type == pafs.FileType.NotFound:
        raise FileNotFoundError(f"no table at {uri}")
    dataset = pads.dataset(path, filesystem=fs, format="parquet", partitioning="hive", ignore_prefixes=[".", "_"])
    is_partitioned = PARTITION_COLUMN in dataset.schema.names and dataset.partitioning is not None
    if partitions is not None and is_partitioned:
        return dataset.to_table(filter=pc.field(PARTITION_COLUMN).cast(pa.string()).isin(partitions))
    return dataset.to_table()
