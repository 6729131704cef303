"""The table catalogue lists exactly the tables the code location defines, describes every column, and refuses an
unknown table in one line."""

from __future__ import annotations

import dagster as dg
import pytest

from glue_scripts.common.catalogue import CATALOGUE, LAYERS, names, table
from glue_scripts.common.specs import SILVER_BY_NAME
from lakehouse.definitions import build_definitions
from lakehouse.defs.common import table_schema
from lakehouse.settings import load_settings


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> dg.AssetGraph:
    root = tmp_path_factory.mktemp("catalogue")
    return build_definitions(load_settings({"LAKEHOUSE_ROOT": str(root)})).resolve_asset_graph()


def test_every_bronze_silver_and_gold_table_is_an_asset_and_no_other(graph: dg.AssetGraph) -> None:
    assets = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for layer in ("bronze", "silver", "gold"):
        assert {t.key for t in CATALOGUE[layer].values()} == {a for a in assets if a.startswith(f"{layer}/")}, layer
    assert set(names("quarantine")) == set(names("silver"))


def test_an_asset_depends_on_exactly_the_inputs_the_catalogue_names(graph: dg.AssetGraph) -> None:
    for layer in ("silver", "gold"):
        for entry in CATALOGUE[layer].values():
            parents = {k.to_user_string() for k in graph.get(dg.AssetKey([layer, entry.name])).parent_keys}
            assert parents == set(entry.inputs), entry.key
            assert graph.get(dg.AssetKey([layer, entry.name])).description == entry.description


def test_keyed_silver_tables_have_their_primary_key_as_grain_and_events_none() -> None:
    for name, entry in CATALOGUE["silver"].items():
        assert entry.grain == (SILVER_BY_NAME[name].primary_key if name in SILVER_BY_NAME else ()), name
        assert set(entry.grain) <= {c for c, _ in entry.columns}
    assert table("silver", "web_events").grain == ()
    for entry in CATALOGUE["gold"].values():
        assert entry.grain and set(entry.grain) <= {c for c, _ in entry.columns}
        assert entry.reconcile and set(entry.reconcile) <= {c for c, _ in entry.columns}, entry.key


def test_every_silver_and_gold_column_is_described() -> None:
    for layer in ("silver", "gold"):
        for entry in CATALOGUE[layer].values():
            undescribed = [c.name for c in table_schema(entry.columns).columns if not c.description]
            assert undescribed == [], entry.key
    assert table_schema([["unknown", "int"]]).columns[0].description is None


def test_an_unknown_table_or_layer_is_refused_naming_what_exists() -> None:
    with pytest.raises(KeyError, match="silver has region, nation"):
        table("silver", "orderz")
    with pytest.raises(KeyError, match="catalogue has " + ", ".join(LAYERS)):
        table("platinum", "orders")
