"""Deploy the Glue side: upload glue_scripts to S3 (SSE-KMS) and create or update one Glue job per script."""

from __future__ import annotations

import io
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from lakehouse.settings import Settings

GLUE_SCRIPTS = Path(__file__).resolve().parents[1] / "glue_scripts"
GLUE_VERSION = "5.0"
# Libraries the glue_scripts need beyond Glue's own, pinned to the version installed here, the one the tests ran:
# sqlglot renders the gold SQL for Spark, psycopg2 reads the PostgreSQL source of bronze_ingest_db.
GLUE_PYTHON_MODULES: tuple[str, ...] = ("sqlglot", "psycopg2-binary")


def python_modules() -> str:
    """The `--additional-python-modules` value: every module Glue installs for the jobs, pinned."""
    return ",".join(f"{name}=={version(name)}" for name in GLUE_PYTHON_MODULES)


def job_names() -> list[str]:
    """Every Glue job script, by file name (== job name without the prefix)."""
    return sorted(p.stem for p in (GLUE_SCRIPTS / "jobs").glob("*.py") if not p.stem.startswith("_"))


def package_zip() -> bytes:
    """The glue_scripts package as a zip for `--extra-py-files` (Python sources only, deterministic)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(GLUE_SCRIPTS.rglob("*.py")):
            info = zipfile.ZipInfo(str(path.relative_to(GLUE_SCRIPTS.parent)), date_time=(2024, 1, 1, 0, 0, 0))
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _client(settings: Settings, service: str) -> Any:
    import boto3

    kwargs: dict[str, Any] = {"region_name": settings.region}
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
    return boto3.client(service, **kwargs)


def deploy_glue_jobs(settings: Settings, max_concurrent_runs: int = 4) -> dict[str, str]:
    """Upload the scripts and the package zip, then create or update every job; return job → script URI."""
    s3, glue = _client(settings, "s3"), _client(settings, "glue")
    bucket, _, prefix = settings.scripts_uri.removeprefix("s3://").partition("/")
    base = f"{prefix}/glue".strip("/")
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": settings.kms_key_id}
    s3.put_object(Bucket=bucket, Key=f"{base}/glue_scripts.zip", Body=package_zip(), **encryption)
    deployed = {}
    for job in job_names():
        key = f"{base}/jobs/{job}.py"
        s3.put_object(Bucket=bucket, Key=key, Body=(GLUE_SCRIPTS / "jobs" / f"{job}.py").read_bytes(), **encryption)
        definition = {
            "Role": settings.glue_role_arn,
            "Command": {"Name": "glueetl", "ScriptLocation": f"s3://{bucket}/{key}", "PythonVersion": "3"},
            "DefaultArguments": {
                "--extra-py-files": f"s3://{bucket}/{base}/glue_scripts.zip",
                "--additional-python-modules": python_modules(),
                "--enable-metrics": "true",
                "--enable-continuous-cloudwatch-log": "true",
                "--job-bookmark-option": "job-bookmark-disable",
                "--TempDir": f"s3://{bucket}/{base}/tmp/",
            },
            "ExecutionProperty": {"MaxConcurrentRuns": max_concurrent_runs},
            "GlueVersion": GLUE_VERSION,
            "SecurityConfiguration": settings.glue_security_configuration,
            "WorkerType": "G.1X",
            "NumberOfWorkers": 2,
            "Timeout": 120,
        }
        name = f"{settings.name_prefix}-{job}"
        try:
            glue.get_job(JobName=name)
            glue.update_job(JobName=name, JobUpdate=definition)
        except glue.exceptions.EntityNotFoundException:
            glue.create_job(Name=name, **definition)
        deployed[name] = definition["Command"]["ScriptLocation"]
    return deployed
