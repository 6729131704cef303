"""Glue job runs: the same script from glue_scripts/jobs on local Spark, or as a real Glue job through Pipes."""

from __future__ import annotations

import importlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource



@dataclass(frozen=True)
class GlueRun:
    """The outcome of one job run: its run id and the metadata the script reported."""

    run_id: str
    metadata: dict[str, Any] = field(default_factory=dict)


class GlueJobs(dg.ConfigurableResource):
    """Runs a Glue job script by name with `--name value` arguments and returns what it reported."""

    def run(self, context: dg.AssetExecutionContext, job: str, args: dict[str, str]) -> GlueRun:
        """Run `glue_scripts/jobs/<job>.py` to completion."""
        raise NotImplementedError


class LocalGlueJobs(GlueJobs):
    """Runs the job's `run(spark, args)` in this process on the shared local Spark session."""

    pyspark: LazyPySparkResource

    def run(self, context: dg.AssetExecutionContext, job: str, args: dict[str, str]) -> GlueRun:
        """Import the job module and run it on the one local Spark session of this process."""
        run_id = f"local-{uuid.uuid4().hex[:12]}"
        module = importlib.import_module(f"glue_scripts.jobs.{job}")
        context.log.info(f"running Glue job {job} locally ({run_id}) with {_printable(args)}")
        result = module.run(self.pyspark.spark_session, {**args, "JOB_NAME": job, "JOB_RUN_ID": run_id})
        return GlueRun(run_id=run_id, metadata=result)


class AwsGlueJobs(GlueJobs):
    """Starts the deployed Glue job through dagster-aws's PipesGlueClient and collects its report."""

    scripts_uri: str
    region: str
    job_prefix: str = "lakehouse-"
    endpoint_url: str = ""

    def run(self, context: dg.AssetExecutionContext, job: str, args: dict[str, str]) -> GlueRun:
        """Start `<prefix><job>` with the arguments and wait for it; failures carry Glue's message."""
        import boto3
        from dagster_aws.pipes import PipesCloudWatchMessageReader, PipesGlueClient, PipesS3ContextInjector

        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        bucket, _, prefix = self.scripts_uri.removeprefix("s3://").partition("/")
        client = PipesGlueClient(
            client=boto3.client("glue", **kwargs),
            context_injector=PipesS3ContextInjector(
                client=boto3.client("s3", **kwargs), bucket=bucket, key_prefix=f"{prefix}/pipes".strip("/")
            ),
            message_reader=PipesCloudWatchMessageReader(client=boto3.client("logs", **kwargs)),
        )
        invocation = client.run(
            context=context,
            start_job_run_params={
                "JobName": f"{self.job_prefix}{job}",
                "Arguments": {f"--{k}": v for k, v in args.items()},
            },
        )
        materialization = invocation.get_materialize_result()
        metadata = {k: v.value for k, v in (materialization.metadata or {}).items()}
        run_id = str(metadata.pop("AWS Glue Job Run ID", "") or metadata.get("glue_job_run_id", ""))
        return GlueRun(run_id=run_id, metadata={k: _decode(v) for k, v in metadata.items()})


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _printable(args: dict[str, str]) -> str:
    return " ".join(f"--{k} {v}" for k, v in sorted(args.items()))
