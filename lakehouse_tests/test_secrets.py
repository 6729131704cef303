"""No secret in any log, event, metadata or run config: canary values in every secret variable and in the database
URL's userinfo, a successful, a retried and a failed run on a persistent instance, then everything it stored grepped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from dagster._serdes import serialize_value

from glue_scripts.common.redact import SECRET_VARIABLES
from lakehouse.defs import common
from lakehouse.defs.bronze.assets import BRONZE_ASSETS
from lakehouse.defs.silver.assets import SILVER_ASSETS
from lakehouse.resources import build_resources
from lakehouse.settings import VARIABLES, load_settings
from lakehouse.sources import simulate

DAY = "2024-01-01"
URL_CANARY = "canary-url-pw-7f3a"
CANARIES = {name: f"canary-{name.lower().replace('_', '-')}-51c9" for name in SECRET_VARIABLES}
SUCCESS = [dg.AssetKey(["bronze", "db__orders"]), dg.AssetKey(["bronze", "api__customers"]), dg.AssetKey(["silver", "orders"])]


@pytest.fixture
def canary_world(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A one-day world whose database is a fresh PostgreSQL database, every secret variable set to a canary and
    the JDBC URL carrying a canary password (trust authentication accepts any); yields the PostgreSQL host."""
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS canary")
        cur.execute("CREATE DATABASE canary")
    admin.close()
    host = postgres_url.removeprefix("postgresql://postgres@").rsplit("/", 1)[0]
    simulate(tmp_path, sf=0.001, days=1, db_url=f"postgresql://postgres@{host}/canary", progress=False)
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("LAKEHOUSE_DB_USER", "postgres")
    monkeypatch.delenv("LAKEHOUSE_API_URL", raising=False)
    monkeypatch.setattr(common, "BASE_DELAY_SECONDS", 0.01)
    monkeypatch.setattr(common, "MAX_RETRIES", 1)
    (tmp_path / "dagster").mkdir()
    yield {"host": host}


def materialize(instance: dg.DagsterInstance, db_url: str, selection: list[dg.AssetKey],
                monkeypatch: pytest.MonkeyPatch) -> dg.ExecuteInProcessResult:
    """One run of `selection` for DAY with the database at `db_url`, recorded in `instance`."""
    monkeypatch.setenv("LAKEHOUSE_DB_URL", db_url)
    return dg.materialize([*BRONZE_ASSETS, *SILVER_ASSETS], selection=selection, partition_key=DAY,
                          instance=instance, resources=build_resources(load_settings()), raise_on_error=False)


def stored_text(home: Path, instance: dg.DagsterInstance, run_ids: list[str]) -> str:
    """Everything the instance holds for the runs: its files' bytes, every event, each run's config and tags, and
    the job and execution plan snapshots (stored compressed, so the files' bytes alone would not show them)."""
    parts = [path.read_bytes().decode("utf-8", "replace") for path in home.rglob("*") if path.is_file()]
    for run_id in run_ids:
        run = instance.get_run_by_id(run_id)
        parts += [serialize_value(run.run_config), serialize_value(run.tags),
                  serialize_value(instance.get_job_snapshot(run.job_snapshot_id)),
                  serialize_value(instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id))]
        parts += [serialize_value(entry) for entry in instance.all_logs(run_id)]
    return "\n".join(parts)


def test_no_canary_reaches_the_event_log_compute_logs_metadata_or_run_config(
    canary_world: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert {v.name for v in VARIABLES if "PASSWORD" in v.name or "TOKEN" in v.name} <= set(CANARIES)
    host = canary_world["host"]
    url = f"jdbc:postgresql://postgres:{URL_CANARY}@{host}/canary"
    home = tmp_path / "dagster"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        ok = materialize(instance, url, SUCCESS, monkeypatch)
        retried = materialize(instance, f"jdbc:postgresql://postgres:{URL_CANARY}@127.0.0.1:1/canary", SUCCESS[:1],
                              monkeypatch)
        failed = materialize(instance, f"jdbc:postgresql://postgres:{URL_CANARY}@{host}/no_such_db", SUCCESS[:1],
                             monkeypatch)
        assert ok.success and not retried.success and not failed.success
        retried_events = [e.event_type_value for e in retried.all_events]
        assert retried_events.count("STEP_UP_FOR_RETRY") == 1
        assert "STEP_UP_FOR_RETRY" not in [e.event_type_value for e in failed.all_events]
        [orders] = ok.asset_materializations_for_node("bronze__db__orders")
        assert orders.metadata["dagster/row_count"].value > 0
        text = stored_text(home, instance, [ok.run_id, retried.run_id, failed.run_id])

    assert list(home.rglob("*.err")), "compute logs were captured"
    assert "no_such_db" in text and "127.0.0.1:1" in text, "the failures' messages were recorded"
    leaked = sorted(name for name, value in {**CANARIES, "LAKEHOUSE_DB_URL password": URL_CANARY}.items() if value in text)
    assert not leaked, f"secrets found in the instance's storage: {leaked}"
