"""`lakehouse run` as a Dagster user sees it, on the session's one run of the default world (`lakehouse_run`):
its runs belong to the code location's `lakehouse_daily` job, the terminal stays quiet while the full event
log goes to a file, failed checks are explained, and silver and gold columns carry descriptions."""

import json
import re
import subprocess
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.tags import PARTITION_NAME_TAG, REPOSITORY_LABEL_TAG

from lakehouse.launch import LAUNCHED_BY
from lakehouse_tests.fixtures.worlds import LakehouseRun

pytestmark = pytest.mark.slow
MAX_LINES = 150


@pytest.fixture(scope="module")
def done(lakehouse_run: LakehouseRun) -> subprocess.CompletedProcess:
    return lakehouse_run.result()


def _runs(root: Path) -> list[dg.DagsterRun]:
    with dg.DagsterInstance.from_config(str(root / "dagster")) as instance:
        return list(reversed(instance.get_runs(filters=dg.RunsFilter(tags=LAUNCHED_BY))))


def test_runs_belong_to_the_daily_job_of_the_code_location(lakehouse_run: LakehouseRun, done) -> None:
    days = json.loads((lakehouse_run.root / "sources" / "manifest.json").read_text())["days"]
    runs = _runs(lakehouse_run.root)
    assert [r.tags[PARTITION_NAME_TAG] for r in runs] == days
    for run in runs:
        assert run.job_name == "lakehouse_daily"
        assert run.remote_job_origin is not None, "an in-process run has no code-location origin"
        assert run.remote_job_origin.location_name == "lakehouse"
        assert run.remote_job_origin.repository_origin.code_location_origin.location_name == "lakehouse"
        assert run.status == dg.DagsterRunStatus.SUCCESS
    with dg.DagsterInstance.from_config(str(lakehouse_run.root / "dagster")) as instance:
        job_page = dg.RunsFilter(job_name="lakehouse_daily", tags={REPOSITORY_LABEL_TAG: "__repository__@lakehouse"})
        assert {r.run_id for r in instance.get_runs(filters=job_page)} == {r.run_id for r in runs}, "what the job page lists"
        records = [instance.get_run_record_by_id(r.run_id) for r in runs]
    for earlier, later in zip(records, records[1:]):
        assert later.start_time >= earlier.end_time, "day D+1 starts after day D finished"


def test_default_output_is_quiet_and_the_event_log_is_a_file(lakehouse_run: LakehouseRun, done) -> None:
    lines = (done.stdout + done.stderr).splitlines()
    assert not [line for line in lines if "DEBUG" in line]
    assert len(lines) < MAX_LINES, "\n".join(lines)
    for noise in ("BetaWarning", "PreviewWarning", "UserWarning", " WARN ", "[Stage "):
        assert not [line for line in lines if noise in line], noise
    (log,) = (lakehouse_run.root / "logs").glob("run-*.log")
    assert str(log) in done.stderr
    text = log.read_text()
    assert text.count(" - RUN_SUCCESS - ") == len(_runs(lakehouse_run.root))
    assert " - DEBUG - " in text, "the full event log, DEBUG events included, is in the file"


def test_failed_checks_are_grouped_measured_and_the_seeded_ones_named(lakehouse_run: LakehouseRun, done) -> None:
    manifest = json.loads((lakehouse_run.root / "sources" / "manifest.json").read_text())
    corrupt = manifest["logs"]["corrupt_file"]
    err = done.stderr
    assert re.search(r"checks passed: \d+, failed: \d+ \(0 blocking, \d+ warning\)", err), err
    assert "warning (reported, nothing blocked)" in err
    label = f"bronze/logs__web_access:has_no_corrupt_files [{corrupt['ingestion_date']}]"
    after = err.split(label, 1)[1].splitlines()
    assert after[1].split()[0] == "count=1", "the measured value comes first"
    assert after[2].strip() == f"expected: seeded fault, truncated gzip log file {corrupt['path']}"


def test_silver_and_gold_columns_carry_descriptions(lakehouse_run: LakehouseRun, done) -> None:
    undescribed, layers = {}, set()
    with dg.DagsterInstance.from_config(str(lakehouse_run.root / "dagster")) as instance:
        for key in instance.get_asset_keys():
            if key.path[0] not in ("silver", "gold"):
                continue
            layers.add(key.path[0])
            event = instance.get_latest_materialization_event(key)
            schema = event.asset_materialization.metadata["dagster/column_schema"].value
            missing = [c.name for c in schema.columns if not c.description]
            if missing:
                undescribed[key.to_user_string()] = missing
    assert layers == {"silver", "gold"}
    assert undescribed == {}
