"""Deploying the Glue side uploads every script encrypted and creates or updates one job per script."""

from importlib.metadata import version

import boto3
import pytest

from lakehouse.deploy import deploy_glue_jobs, job_names
from lakehouse.settings import load_settings

pytestmark = pytest.mark.aws


def _client(env: dict[str, str], service: str):
    return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_deploy_uploads_encrypted_scripts_and_defines_jobs(aws_account: dict[str, str], monkeypatch) -> None:
    for name, value in {**aws_account, "SNOWFLAKE_ACCOUNT": "a", "SNOWFLAKE_USER": "u", "SNOWFLAKE_PASSWORD": "p",
                        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    glue = _client(aws_account, "glue")
    # moto implements create_job but not update_job, so the jobs the template created are removed
    # and the create path is exercised here; update_job is the same definition on real Glue.
    for job in job_names():
        glue.delete_job(JobName=f"lakehouse-{job}")
    deployed = deploy_glue_jobs(settings)
    assert sorted(deployed) == [f"lakehouse-{j}" for j in job_names()]
    s3 = _client(aws_account, "s3")
    bucket = settings.scripts_uri.removeprefix("s3://").split("/")[0]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="glue/")["Contents"]]
    assert "glue/glue_scripts.zip" in keys
    for key in keys:
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms", key
        assert settings.kms_key_id.split("/")[-1] in head["SSEKMSKeyId"] or head["SSEKMSKeyId"].endswith(settings.kms_key_id.split(":")[-1]), key
    for name, location in deployed.items():
        job = glue.get_job(JobName=name)["Job"]
        assert job["Command"]["ScriptLocation"] == location
        assert job["SecurityConfiguration"] == settings.glue_security_configuration
        assert job["DefaultArguments"]["--extra-py-files"].endswith("glue_scripts.zip")
        assert job["DefaultArguments"]["--additional-python-modules"] == (
            f"sqlglot=={version('sqlglot')},psycopg2-binary=={version('psycopg2-binary')}")
        assert job["GlueVersion"] == "5.0"
