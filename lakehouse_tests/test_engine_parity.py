"""One world, two engines: `lakehouse run` on DuckDB and on Spark leaves the same lakehouse and reports the same.

The session's two runs of the default world (fixtures/worlds.py) are held to each other: every bronze, silver,
quarantine and gold table row for row (EXCEPT ALL both ways, schemas equal, so decimals are exact and rule arrays
equal), in the same partitions; every materialization reports the same counts; every check has the same outcome and
measures per day. The range backfill on Spark is held to the DuckDB run in defs/test_automation_days.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from lakehouse_tests.fixtures.layers import assert_same_layers
from lakehouse_tests.fixtures.worlds import LakehouseRun

pytestmark = pytest.mark.slow

# Metadata naming the Glue job run or the landing files' clock, or measuring Parquet bytes (each engine's writer
# encodes the same rows differently), not what was produced. Paths are compared with the root taken out.
RUN_METADATA: frozenset[str] = frozenset({"glue_job_run_id", "bytes", "landing_fingerprint"})
LOCAL_PORT = re.compile(r"127\.0\.0\.1:\d+")  # each run serves the simulated API on a free port
LIMIT = 10_000  # what one fetch may return; a three-day world has a few per partition


def _finished(*runs: LakehouseRun) -> None:
    for run in runs:
        done = run.result()
        assert done.returncode == 0, f"{run.engine}: " + done.stderr[-6000:]


def _text(value: Any) -> str:
    return repr(value) if isinstance(value, dg.TableSchema) else json.dumps(value, default=str, sort_keys=True)


def _comparable(metadata: dict[str, Any], root: Path) -> dict[str, str]:
    """Metadata values but RUN_METADATA as JSON text, with the run's root and the local API's port taken out."""
    values = {k: _text(getattr(v, "value", v)) for k, v in metadata.items() if k not in RUN_METADATA}
    return {k: LOCAL_PORT.sub("127.0.0.1:<port>", v.replace(str(root), "<root>")) for k, v in values.items()}


def _reported(run: LakehouseRun) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str, str], Any]]:
    """(asset, partition) → the latest materialization's metadata, and (asset, check, partition) → the latest
    evaluation's outcome and metadata, from the run's instance."""
    materialized: dict[tuple[str, str], dict[str, Any]] = {}
    checked: dict[tuple[str, str, str], Any] = {}
    with dg.DagsterInstance.from_config(str(run.root / "dagster")) as instance:
        for key in instance.get_asset_keys():
            for record in instance.fetch_materializations(key, limit=LIMIT, ascending=True).records:
                event = record.asset_materialization
                materialized[(key.to_user_string(), event.partition or "")] = _comparable(event.metadata, run.root)
        events = dg.EventRecordsFilter(dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        for record in instance.get_event_records(events, ascending=True):
            evaluation = record.event_log_entry.dagster_event.event_specific_data
            key = (evaluation.asset_key.to_user_string(), evaluation.check_name, evaluation.partition or "")
            checked[key] = (evaluation.passed, _comparable(evaluation.metadata, run.root))
    return materialized, checked


def test_both_engines_leave_the_same_lakehouse(lakehouse_run: LakehouseRun, spark_lakehouse_run: LakehouseRun) -> None:
    _finished(lakehouse_run, spark_lakehouse_run)
    assert_same_layers(spark_lakehouse_run.root, lakehouse_run.root, layers=("bronze", "silver", "quarantine"))


def test_both_engines_report_the_same_counts_and_checks(lakehouse_run: LakehouseRun,
                                                        spark_lakehouse_run: LakehouseRun) -> None:
    _finished(lakehouse_run, spark_lakehouse_run)
    duck_materialized, duck_checked = _reported(lakehouse_run)
    spark_materialized, spark_checked = _reported(spark_lakehouse_run)
    assert sorted(duck_materialized) == sorted(spark_materialized)
    assert any(key.startswith("silver/") for key, _ in duck_materialized)
    for key, metadata in duck_materialized.items():
        assert spark_materialized[key] == metadata, key
    assert sorted(duck_checked) == sorted(spark_checked)
    for key, outcome in duck_checked.items():
        assert spark_checked[key] == outcome, key
