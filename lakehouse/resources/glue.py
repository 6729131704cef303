"""Glue job runs: the same script from glue_scripts/jobs on local Spark, or as a real Glue job through Pipes."""

from __future__ import annotations

import importlib
import uuid
from dataclasses import dataclass
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from glue_scripts.common.locks import DEFAULT_WAIT_SECONDS, run_exclusive
from glue_scripts.common.redact import redact, redact_args
from glue_scripts.common.reports import REPORT_KEY, JobReport, ReportError, parse_report
from glue_scripts.common.session import LazySpark
from glue_scripts.common.transient import is_transient_message


@dataclass(frozen=True)
class GlueRun:
    """The outcome of one job run: its run id and the report the script returned, parsed."""

    run_id: str
    report: JobReport


class GlueJobs(dg.ConfigurableResource):
    """Runs a Glue job script by name with `--name value` arguments and returns what it reported."""

    engine: str = "spark"  # what the jobs that honour `--engine` (silver_build, gold_build) run on; Glue: always spark

    def run(self, context: dg.AssetExecutionContext, job: str, args: dict[str, str]) -> GlueRun:
        """Run `glue_scripts/jobs/<job>.py` to completion."""
        raise NotImplementedError


class LocalGlueJobs(GlueJobs):
    """Runs the job's `run(spark, args)` in this process; the shared local Spark session starts only if the job uses it."""

    pyspark: LazyPySparkResource
    lock_wait_seconds: float = DEFAULT_WAIT_SECONDS

    def run(self, context: dg.AssetExecutionContext, job: str, args: dict[str, str]) -> GlueRun:
        """Import the job module and run it on the one local Spark session of this process, holding its writer leases."""
        run_id = f"local-{uuid.uuid4().hex[:12]}"
        module = importlib.import_module(f"glue_scripts.jobs.{job}")
        context.log.info(f"running Glue job {job} locally ({run_id}) with {_printable(args)}")
        result = run_exclusive(module.run, LazySpark(lambda: self.pyspark.spark_session), {
            "lock_wait_seconds": str(self.lock_wait_seconds), **args, "JOB_NAME": job, "JOB_RUN_ID": run_id})
        # Through JSON as on Glue, so both profiles parse the same text the same strict way.
        return GlueRun(run_id=run_id, report=parse_report(job, result.to_json()))


class GlueJobRunFailed(dg.Failure):
    """A Glue job run ended in a state other than SUCCEEDED; carries Glue's run id, state and (redacted) error
    message, and whether that message reports a transient source failure worth retrying the step for."""

    def __init__(self, job: str, run_id: str, state: str, message: str) -> None:
        message = redact(message)
        super().__init__(
            description=f"Glue job {job} run {run_id} ended {state}: {message or 'no error message'}",
            metadata={"glue_job": job, "glue_job_run_id": run_id, "glue_job_run_state": state,
                      "glue_error_message": message},
        )
        self.job, self.run_id, self.state, self.message = job, run_id, state, message
        self.transient = state == "FAILED" and is_transient_message(message)


class _AttachingGlueClient:
    """The Glue client PipesGlueClient starts runs with: it attaches to `attach_to` instead of starting a second run."""

    def __init__(self, client: Any, attach_to: str | None) -> None:
        self._client = client
        self.run_id = attach_to

    def start_job_run(self, **params: Any) -> dict[str, Any]:
        """Start the run, or return the run already in progress."""
        if self.run_id is None:
            self.run_id = str(self._client.start_job_run(**params)["JobRunId"])
        return {"JobRunId": self.run_id}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class AwsGlueJobs(GlueJobs):
    """Starts the deployed Glue job through dagster-aws's PipesGlueClient and collects its report.

    A retried step finds the run its earlier attempt started (same job, same arguments, still active) and
    waits for that run instead of starting a second one for the same partition.
    """

    scripts_uri: str
    region: str
    job_prefix: str = "lakehouse-"
    endpoint_url: str = ""

    def client(self, service: str) -> Any:
        """A boto3 client of this resource's region and endpoint."""
        import boto3

        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        return boto3.client(service, **kwargs)

    def glue_client(self) -> Any:
        """The Glue client runs start and are watched through (tests substitute one that executes the script)."""
        return self.client("glue")

    def run(self, context: dg.AssetExecutionContext, job: str, args: dict[str, str]) -> GlueRun:
        """Start `<prefix><job>` (or attach to its active twin) and wait for it; failures carry Glue's message."""
        from dagster_aws.pipes import PipesCloudWatchMessageReader, PipesGlueClient, PipesS3ContextInjector

        name, arguments = f"{self.job_prefix}{job}", {f"--{k}": v for k, v in args.items()}
        glue = self.glue_client()
        active = active_run(glue, name, arguments)
        reader = PipesCloudWatchMessageReader(client=self.client("logs"))
        if active is not None:
            context.log.info(f"Glue job {name} run {active['Id']} with these arguments is {active['JobRunState']}; "
                             "waiting for it instead of starting a second run")
            reader.start_time = active["StartedOn"]
        starter = _AttachingGlueClient(glue, active["Id"] if active else None)
        bucket, _, prefix = self.scripts_uri.removeprefix("s3://").partition("/")
        client = PipesGlueClient(
            client=starter,  # type: ignore[arg-type]
            context_injector=PipesS3ContextInjector(
                client=self.client("s3"), bucket=bucket, key_prefix=f"{prefix}/pipes".strip("/")
            ),
            message_reader=reader,
        )
        try:
            invocation = client.run(context=context, start_job_run_params={"JobName": name, "Arguments": arguments})
        except RuntimeError:
            if starter.run_id is None:
                raise
            ended = glue.get_job_run(JobName=name, RunId=starter.run_id)["JobRun"]
            if ended["JobRunState"] == "SUCCEEDED":
                raise
            raise GlueJobRunFailed(name, starter.run_id, ended["JobRunState"], ended.get("ErrorMessage", "")) from None
        materialization = invocation.get_materialize_result()
        metadata = {k: v.value for k, v in (materialization.metadata or {}).items()}
        run_id = str(metadata.get("AWS Glue Job Run ID", "") or starter.run_id)
        if not isinstance(metadata.get(REPORT_KEY), str):
            raise ReportError(f"{job} report: Glue run {run_id} reported no `{REPORT_KEY}` metadata")
        return GlueRun(run_id=run_id, report=parse_report(job, metadata[REPORT_KEY]))


ACTIVE_STATES = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})
PIPES_ARGUMENTS = frozenset({"--dagster-pipes-context", "--dagster-pipes-messages"})


def active_run(glue: Any, name: str, arguments: dict[str, str]) -> dict[str, Any] | None:
    """The newest run of job `name` still active with the same arguments (Pipes and job defaults aside), if any."""
    defaults = glue.get_job(JobName=name)["Job"].get("DefaultArguments", {})

    def own(values: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in values.items() if k not in PIPES_ARGUMENTS and defaults.get(k) != v}

    wanted, token = own(arguments), None
    while True:
        page = glue.get_job_runs(JobName=name, **({"NextToken": token} if token else {}))
        for run in sorted(page["JobRuns"], key=lambda r: r["StartedOn"], reverse=True):
            if run["JobRunState"] in ACTIVE_STATES and own(run.get("Arguments", {})) == wanted:
                return run
        token = page.get("NextToken")
        if not token:
            return None


def _printable(args: dict[str, str]) -> str:
    return " ".join(f"--{k} {v}" for k, v in sorted(redact_args(args).items()))
