"""Every silver column carries a description in the TableSchema the assets report."""

from glue_scripts.common.specs import SILVER_SPECS
from glue_scripts.transforms.silver_standardize import LINEAGE
from glue_scripts.transforms.silver_web import WEB_COLUMNS, WEB_METADATA
from lakehouse.defs.common import table_schema


def test_every_silver_column_is_described_in_its_table_schema() -> None:
    columns = [c for spec in SILVER_SPECS for c in spec.column_names] + [*WEB_COLUMNS, *WEB_METADATA, *LINEAGE]
    schema = table_schema([[name, "string"] for name in columns])
    assert [c.name for c in schema.columns if not c.description] == []
    assert table_schema([["o_orderdate", "date"], ["unknown", "int"]]).columns[0].description == "Date the order was placed."
    assert table_schema([["unknown", "int"]]).columns[0].description is None
