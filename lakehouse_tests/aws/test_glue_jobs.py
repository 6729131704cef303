"""AwsGlueJobs against the moto server, each run executing the deployed script locally (LocalGlueRunner).

The probe asset runs the real `bronze_ingest_files` job on a three-row landing partition, so what these
tests see went through the whole aws path: the job definition and script deployed to moto, Pipes context
in S3, the script's report in CloudWatch Logs, its output in S3 under the security configuration's key.
"""

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from glue_scripts.common.fs import filesystem_for
from glue_scripts.common.specs import BRONZE_BY_NAME
from lakehouse.defs import common
from lakehouse.deploy import deploy_glue_jobs, job_names
from lakehouse.resources import GlueJobs, build_resources
from lakehouse.resources.glue import GlueJobRunFailed
from lakehouse.settings import Settings, load_settings
from lakehouse_tests.aws.conftest import SNOWFLAKE_ENV
from lakehouse_tests.aws.glue_runner import LOG_GROUP, LocalGlueRunner, LocallyRunGlueJobs, locally_run_glue_jobs

pytestmark = pytest.mark.aws

JOB = "bronze_ingest_files"
DAY = "2024-01-02"
NATION_CSV = "n_nationkey,n_name,n_regionkey,n_comment\n0,ALGERIA,0,north\n1,ARGENTINA,1,south\n2,BRAZIL,1,east\n"


@pytest.fixture
def settings(aws_account: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The aws profile of a fresh emulated account, its Glue jobs deployed and one nation file landed."""
    for name, value in {**aws_account, **SNOWFLAKE_ENV}.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    glue = boto3.client("glue", region_name=settings.region, endpoint_url=settings.endpoint_url)
    # moto has no update_job: drop the template's jobs so deploy_glue_jobs takes its create path.
    for job in job_names():
        glue.delete_job(JobName=f"{settings.name_prefix}-{job}")
    deploy_glue_jobs(settings)
    s3 = boto3.client("s3", region_name=settings.region, endpoint_url=settings.endpoint_url)
    s3.put_object(Bucket=bucket(settings, "landing"), Key=f"files/nation/ingestion_date={DAY}/nation.csv",
                  Body=NATION_CSV.encode(), ServerSideEncryption="aws:kms", SSEKMSKeyId=settings.kms_key_id)
    return settings


@pytest.fixture
def runner(settings: Settings, tmp_path: Path) -> Iterator[LocalGlueRunner]:
    """A Glue client on the moto server that executes each run's script in this process."""
    runner = LocalGlueRunner(boto3.Session(region_name=settings.region), settings.endpoint_url, tmp_path / "glue")
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture
def glue(settings: Settings, runner: LocalGlueRunner) -> LocallyRunGlueJobs:
    """The aws profile's Glue resource, its runs executed by `runner`."""
    return locally_run_glue_jobs(build_resources(settings)["glue"], runner)


def bucket(settings: Settings, layer: str) -> str:
    """The bucket name of a layer."""
    return settings.uri(layer).removeprefix("s3://").split("/")[0]


def job_args(settings: Settings, table: str = "files__nation") -> dict[str, str]:
    """Arguments of one bronze_ingest_files run, fixed so a second attempt asks for the same run."""
    return {"table": table, "ingestion_date": DAY, "bronze_path": settings.uri("bronze"),
            "quarantine_path": settings.uri("quarantine"), "landing_path": settings.uri("landing"), "run_id": "probe"}


def probe(args: dict[str, str], retries: int = 0,
          before: Callable[[dg.AssetExecutionContext], None] | None = None) -> dg.AssetsDefinition:
    """An asset that runs the job through the `glue` resource and shows what came back as its metadata."""

    @dg.asset(key=["bronze", "files__nation"], retry_policy=dg.RetryPolicy(max_retries=retries) if retries else None)
    def nation(context: dg.AssetExecutionContext, glue: GlueJobs) -> dg.MaterializeResult:
        if before is not None:
            before(context)
        run = glue.run(context, JOB, args)
        day = run.report.days[DAY]
        return dg.MaterializeResult(metadata={
            "glue_job_run_id": run.run_id, "rows": day.rows, "path": day.path,
            "columns": dg.MetadataValue.json([name for name, _ in day.schema]),
        })

    return nation


def recorded_runs(settings: Settings) -> list[dict[str, Any]]:
    """The job's runs as moto recorded them."""
    glue = boto3.client("glue", region_name=settings.region, endpoint_url=settings.endpoint_url)
    return glue.get_job_runs(JobName=f"lakehouse-{JOB}")["JobRuns"]


def failure_of(result: dg.ExecuteInProcessResult) -> Any:
    """The user failure data (description, metadata) of the run's one failed step."""
    [event] = result.get_step_failure_events()
    return event.step_failure_data.user_failure_data


def test_pipes_metadata_round_trips_and_outputs_land_encrypted(
    settings: Settings, runner: LocalGlueRunner, glue: LocallyRunGlueJobs
) -> None:
    result = dg.materialize([probe(job_args(settings))], resources={"glue": glue})
    assert result.success
    [run] = recorded_runs(settings)
    assert "--dagster-pipes-context" in run["Arguments"]
    [materialization] = result.asset_materializations_for_node("bronze__files__nation")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    partition = f"files__nation/ingestion_date={DAY}"
    assert metadata["glue_job_run_id"] == run["Id"]
    assert metadata["rows"] == 3
    assert metadata["path"] == f"{settings.uri('bronze')}/{partition}"
    assert metadata["columns"][:4] == ["n_nationkey", "n_name", "n_regionkey", "n_comment"]

    s3 = boto3.client("s3", region_name=settings.region, endpoint_url=settings.endpoint_url)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket(settings, "bronze"))["Contents"]]
    assert keys and all(k.startswith(f"{partition}/part-") and k.endswith(".parquet") for k in keys), keys
    for key in keys:
        head = s3.head_object(Bucket=bucket(settings, "bronze"), Key=key)
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", settings.kms_key_id)
    fs, path = filesystem_for(f"{settings.uri('bronze')}/{partition}")
    table = pq.read_table(path, filesystem=fs)
    assert sorted(table.column("n_name").to_pylist()) == ["ALGERIA", "ARGENTINA", "BRAZIL"]

    logs = boto3.client("logs", region_name=settings.region, endpoint_url=settings.endpoint_url)
    stream = {"logGroupName": f"{LOG_GROUP}/output", "logStreamName": run["Id"]}
    events = logs.get_log_events(**stream, startFromHead=True)["events"]
    assert any('"method": "report_asset_materialization"' in e["message"] for e in events)
    assert not any(str(runner.workdir) in e["message"] for e in events)


def test_failed_run_surfaces_glue_error_message_and_run_id(
    settings: Settings, runner: LocalGlueRunner, glue: LocallyRunGlueJobs
) -> None:
    result = dg.materialize([probe(job_args(settings, "files__nope"))], resources={"glue": glue}, raise_on_error=False)
    assert not result.success
    [run] = recorded_runs(settings)
    error = runner.get_job_run(JobName=f"lakehouse-{JOB}", RunId=run["Id"])["JobRun"]
    assert error["JobRunState"] == "FAILED"
    assert error["ErrorMessage"].startswith(f"ValueError: {JOB} does not ingest table 'files__nope'")
    failure = failure_of(result)
    assert failure.description == f"Glue job lakehouse-{JOB} run {run['Id']} ended FAILED: {error['ErrorMessage']}"
    assert failure.metadata["glue_job_run_id"].value == run["Id"]
    assert failure.metadata["glue_error_message"].value == error["ErrorMessage"]


def test_timed_out_run_surfaces_timeout_and_run_id(
    settings: Settings, runner: LocalGlueRunner, glue: LocallyRunGlueJobs
) -> None:
    runner.minute_seconds = 0.0005  # the job's 120-minute Timeout passes after 60 ms, long before Spark is done
    result = dg.materialize([probe(job_args(settings))], resources={"glue": glue}, raise_on_error=False)
    assert not result.success
    [run] = recorded_runs(settings)
    failure = failure_of(result)
    assert failure.description == (f"Glue job lakehouse-{JOB} run {run['Id']} ended TIMEOUT: "
                                   "Timeout: the job run exceeded the job's timeout of 120 minutes")
    assert failure.metadata["glue_job_run_state"].value == "TIMEOUT"
    runner.close()
    assert runner.get_job_run(JobName=f"lakehouse-{JOB}", RunId=run["Id"])["JobRun"]["JobRunState"] == "TIMEOUT"


def test_retried_step_waits_for_the_running_run_instead_of_starting_another(
    settings: Settings, runner: LocalGlueRunner, glue: LocallyRunGlueJobs
) -> None:
    runner.wait, runner.hold = False, threading.Event()
    throttled = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
    runner.poll_errors.append(ClientError(throttled, "GetJobRun"))  # type: ignore[arg-type]

    def release_on_retry(context: dg.AssetExecutionContext) -> None:
        """The first attempt dies polling while its run is held RUNNING; the retry lets the run go on."""
        if context.retry_number:
            [held] = recorded_runs(settings)
            state = runner.get_job_run(JobName=f"lakehouse-{JOB}", RunId=held["Id"])["JobRun"]["JobRunState"]
            assert state == "RUNNING"
            runner.hold.set()

    result = dg.materialize([probe(job_args(settings), retries=1, before=release_on_retry)], resources={"glue": glue})
    assert result.success
    assert [e.event_type_value for e in result.all_events].count("STEP_UP_FOR_RETRY") == 1
    [run] = recorded_runs(settings)
    [materialization] = result.asset_materializations_for_node("bronze__files__nation")
    assert materialization.metadata["glue_job_run_id"].value == run["Id"]
    assert materialization.metadata["rows"].value == 3


def test_a_run_failing_on_a_transient_source_error_is_retried_and_succeeds(
    settings: Settings, runner: LocalGlueRunner, glue: LocallyRunGlueJobs, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(common, "BASE_DELAY_SECONDS", 0.01)
    source = tmp_path / "source.sqlite"
    args = {**job_args(settings, "db__orders"), "jdbc_url": f"jdbc:sqlite:{source}", "db_max_attempts": "1"}

    def database_back_on_retry(context: dg.AssetExecutionContext) -> None:
        """The first attempt's Glue run finds no database (unreachable); the retry finds it back."""
        if context.retry_number:
            with sqlite3.connect(source) as conn:
                conn.execute(f"CREATE TABLE orders ({', '.join(c + ' TEXT' for c in BRONZE_BY_NAME['db__orders'].columns)})")

    @dg.asset(key=["bronze", "db__orders"])
    def orders(context: dg.AssetExecutionContext, glue: GlueJobs) -> dg.MaterializeResult:
        database_back_on_retry(context)
        run = common.run_with_transient_retry(context, lambda: glue.run(context, "bronze_ingest_db", args))
        return dg.MaterializeResult(metadata={"glue_job_run_id": run.run_id, "rows": run.report.days[DAY].rows})

    result = dg.materialize([orders], resources={"glue": glue})
    assert result.success
    assert [e.event_type_value for e in result.all_events].count("STEP_UP_FOR_RETRY") == 1
    glue_runs = boto3.client("glue", region_name=settings.region, endpoint_url=settings.endpoint_url).get_job_runs(
        JobName="lakehouse-bronze_ingest_db")["JobRuns"]
    states = sorted(runner.get_job_run(JobName="lakehouse-bronze_ingest_db", RunId=r["Id"])["JobRun"]["JobRunState"]
                    for r in glue_runs)
    assert states == ["FAILED", "SUCCEEDED"]
    [materialization] = result.asset_materializations_for_node("bronze__db__orders")
    assert materialization.metadata["rows"].value == 0


def test_a_failed_run_is_transient_only_when_its_message_says_so() -> None:
    unreachable = GlueJobRunFailed("j", "r", "FAILED", "SourceUnavailableError: [transient] source db__orders unreachable")
    assert common.is_transient(unreachable)
    assert not common.is_transient(GlueJobRunFailed("j", "r", "FAILED", "ValueError: bad --table"))
    assert not common.is_transient(GlueJobRunFailed("j", "r", "TIMEOUT", "[transient] but timed out"))
    leaked = GlueJobRunFailed("j", "r", "FAILED", "at jdbc:postgresql://u:hunter22@h/db")
    assert "hunter22" not in leaked.description and "hunter22" not in leaked.metadata["glue_error_message"].value
