"""The Dagster CLI against the real code location: validate the definitions, list the assets, materialize one
partition, and read the outcome of the asset checks that run with it (Dagster 1.13 has no `dagster asset check`:
the checks here are evaluated by the asset's own step, so materializing is how the CLI runs them)."""

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from glue_scripts.common.specs import BRONZE_BY_NAME
from lakehouse.definitions import build_definitions
from lakehouse.defs.bronze.checks import check_specs
from lakehouse.settings import load_settings
from lakehouse_tests.fixtures.worlds import lakehouse_env

REPO = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
REGION = dg.AssetKey(["bronze", "files__region"])
REGION_ROWS = ["0,AFRICA,lar deposits,2024-01-01 00:10:00", "1,AMERICA,hs use ironic,2024-01-01 00:10:00",
               "2,ASIA,ges. thinly even,2024-01-01 00:10:00"]


def _dagster(root: Path, *args: str) -> str:
    """Run `dagster <args>` in the repository on `root`'s warehouse and instance; its output when it succeeds."""
    done = subprocess.run([DAGSTER, *args], cwd=REPO, env=lakehouse_env(root), capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    return output


def _drop(root: Path, day: str, name: str, body: bytes) -> None:
    path = root / "landing" / "files" / "region" / f"ingestion_date={day}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose landing zone holds one clean region drop on 2024-01-01 and a corrupt one on 2024-01-02."""
    root = tmp_path_factory.mktemp("cli")
    (root / "dagster").mkdir()
    shutil.copyfile(REPO / "dagster.yaml", root / "dagster" / "dagster.yaml")
    header = "r_regionkey,r_name,r_comment,updated_at\n"
    _drop(root, "2024-01-01", "region-1.csv", (header + "\n".join(REGION_ROWS) + "\n").encode())
    _drop(root, "2024-01-02", "region-2.csv", (header + REGION_ROWS[0] + "\n").encode())
    _drop(root, "2024-01-02", "region-3.csv", header.encode() + b"3,EUROPE,\xff\xfe not utf-8,2024-01-02 00:10:00\n")
    return root


def test_definitions_validate_on_the_workspace(root: Path) -> None:
    output = _dagster(root, "definitions", "validate", "-w", "workspace.yaml")
    assert "Validation successful for code location lakehouse" in output
    assert "All code locations passed validation" in output


def test_asset_list_names_exactly_the_assets_of_every_layer(root: Path) -> None:
    output = _dagster(root, "asset", "list", "-m", "lakehouse.definitions")
    graph = build_definitions(load_settings({"LAKEHOUSE_ROOT": str(root)})).resolve_asset_graph()
    expected = {k.to_user_string() for k in graph.get_all_asset_keys()}
    listed = {line.strip() for line in output.splitlines() if line.strip() in expected or line.count("/") == 1}
    assert listed == expected
    assert {key.split("/")[0] for key in listed} == {"bronze", "silver", "gold", "snowflake"}


CHECKS = [spec.name for spec in check_specs(BRONZE_BY_NAME["files__region"], REGION)]


def test_asset_materialize_writes_the_partition_records_it_and_runs_its_checks(root: Path) -> None:
    output = _dagster(root, "asset", "materialize", "-m", "lakehouse.definitions",
                      "--select", REGION.to_user_string(), "--partition", "2024-01-01")
    assert "RUN_SUCCESS" in output
    for name in CHECKS:
        assert f"Asset check '{name}' on 'bronze/files__region' passed" in output
    written = f"{root}/bronze/files__region/ingestion_date=2024-01-01/*.parquet"
    keys = duckdb.connect().execute(f"SELECT r_regionkey FROM read_parquet('{written}') ORDER BY 1").fetchall()
    assert keys == [("0",), ("1",), ("2",)]
    with dg.DagsterInstance.from_config(str(root / "dagster")) as instance:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=REGION, asset_partitions=["2024-01-01"]), limit=5).records
        assert len(records) == 1
        assert records[0].asset_materialization.metadata["dagster/row_count"].value == 3


def test_a_failing_check_is_reported_and_recorded(root: Path) -> None:
    corrupt = _dagster(root, "asset", "materialize", "-m", "lakehouse.definitions",
                       "--select", REGION.to_user_string(), "--partition", "2024-01-02")
    assert "Asset check 'has_no_corrupt_files' on 'bronze/files__region' did not pass" in corrupt
    for name in set(CHECKS) - {"has_no_corrupt_files"}:
        assert f"Asset check '{name}' on 'bronze/files__region' passed" in corrupt
    assert "RUN_SUCCESS" in corrupt, "a non-blocking check failure does not fail the run"
    assert list((root / "quarantine" / "_files" / "files__region" / "ingestion_date=2024-01-02").glob("region-3.csv*"))
    with dg.DagsterInstance.from_config(str(root / "dagster")) as instance:
        latest = {
            name: instance.event_log_storage.get_asset_check_execution_history(dg.AssetCheckKey(REGION, name), limit=1)[0]
            for name in CHECKS
        }
    outcomes = {name: record.event.dagster_event.event_specific_data.passed for name, record in latest.items()}
    assert outcomes == {name: name != "has_no_corrupt_files" for name in CHECKS}
