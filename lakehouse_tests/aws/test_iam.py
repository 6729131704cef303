"""IAM limits access: the template's roles, used through their own credentials with moto enforcing IAM.

A moto server of its own (a subprocess, because moto keeps the enforcement switch in process-wide
state that the shared in-process server would see too) holds the account from infra/lakehouse.yaml,
deployed with `OrchestratorPrincipalArn` naming an IAM user that stands in for the Dagster process.
Objects are seeded and the Glue and Snowflake roles assumed while authentication is still off; then
`/moto-api/reset-auth 0` makes every later request pass moto's signature and IAM policy checks, and
that user assumes the orchestrator role under them (moto checks the role's trust policy there).

What moto enforces per resource: S3 (bucket and object ARNs), IAM and STS; for Glue, Athena, KMS,
CloudWatch and CloudWatch Logs it checks the action against resource `*` only, so a statement scoped to
specific ARNs never matches there. Those resource-scoped grants are therefore also evaluated with moto's
IAM policy engine against the real ARNs, over the role policies the account holds. CloudWatch's
PutMetricData is checked the same way: moto names it `monitoring:PutMetricData` (the signing name),
which no policy grants.
Two S3 requests of pyarrow's write path are authorized by moto unlike AWS: HeadBucket as `s3:HeadBucket`
(an action IAM does not have; AWS checks s3:ListBucket) and a multi-object delete as s3:DeleteObject on
the bucket (AWS checks each key). The orchestrator role gets moto's forms of exactly the grants its
template policy holds (`_moto_forms`), so the real sensor listing and write path run under enforcement.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pyarrow as pa
import pytest
from botocore.exceptions import ClientError

from lakehouse.defs.automation import LandingCursor, list_landing
from lakehouse.resources import Warehouse
from lakehouse.resources.io_manager import read_table
from lakehouse.settings import LAYERS
from lakehouse_tests.aws.account import MOTO_CREDENTIALS, Account, deploy_template
from lakehouse_tests.fixtures.servers import _free_port

pytestmark = pytest.mark.aws

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
DENIED = ("AccessDenied", "AccessDeniedException")
RUNNER, INTRUDER = "dagster-runner", "intruder"  # IAM users: the one the orchestrator role trusts, and another


@dataclass
class Enforced:
    """The account under IAM enforcement, with sessions holding each role's credentials."""

    endpoint: str
    account: Account
    glue: boto3.Session
    snowflake: boto3.Session
    glue_policies: list[dict[str, Any]]
    users: dict[str, boto3.Session]
    orchestrator: boto3.Session
    orchestrator_policies: list[dict[str, Any]]

    def bucket(self, layer: str) -> str:
        return self.account.env[f"LAKEHOUSE_{layer.upper()}_BUCKET"]

    def client(self, session: boto3.Session, service: str) -> Any:
        return session.client(service, region_name=REGION, endpoint_url=self.endpoint)


@pytest.fixture(scope="module")
def moto_server_process() -> Iterator[str]:
    """A moto server in its own process on an ephemeral 127.0.0.1 port; yields its endpoint URL."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"moto server on port {port} did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=30)


def _assume(sts: Any, role_arn: str, **extra: str) -> boto3.Session:
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="iam-test", **extra)["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name=REGION)


def _role_policies(iam: Any, role_arn: str) -> list[dict[str, Any]]:
    role = role_arn.rsplit("/", 1)[1]
    return [iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]]


def _moto_forms(policies: list[dict[str, Any]]) -> str:
    """moto's names for grants the policies hold: s3:HeadBucket where they grant s3:ListBucket on a bucket,
    s3:DeleteObject on a bucket where they grant it on the bucket's objects (`<bucket>/*`)."""
    head, delete = [], []
    for statement in (s for policy in policies for s in policy["Statement"] if s["Effect"] == "Allow"):
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        if "s3:ListBucket" in actions:
            head += resources
        if "s3:DeleteObject" in actions:
            delete += [r.removesuffix("/*") for r in resources if r.endswith("/*")]
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:HeadBucket", "Resource": head},
        {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": delete}]})


def _user_allowed_to_assume(iam: Any, name: str, role_arn: str) -> boto3.Session:
    """An IAM user whose own policy lets it assume `role_arn`; whether the role trusts it is the role's business."""
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="assume-orchestrator", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                         region_name=REGION)


@pytest.fixture(scope="module")
def enforced(moto_server_process: str) -> Enforced:
    """The template's account with seed objects, both roles assumed, then IAM enforced on every request."""
    endpoint = moto_server_process
    account = deploy_template(endpoint, parameters={
        "OrchestratorPrincipalArn": f"arn:aws:iam::{ACCOUNT_ID}:user/{RUNNER}"})
    admin = boto3.Session(aws_access_key_id=MOTO_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=MOTO_CREDENTIALS["AWS_SECRET_ACCESS_KEY"], region_name=REGION)
    s3 = admin.client("s3", endpoint_url=endpoint)
    env = account.env
    seeds = {
        "LANDING": "files/part/ingestion_date=2024-01-01/part.csv",
        "SCRIPTS": "glue/jobs/silver_build.py",
        "SILVER": "orders/ingestion_date=2024-01-01/part-00000.parquet",
        "GOLD": "daily_revenue/part-00000.parquet",
    }
    for layer, key in seeds.items():
        s3.put_object(Bucket=env[f"LAKEHOUSE_{layer}_BUCKET"], Key=key, Body=b"seed")
    s3.put_object(Bucket=env["LAKEHOUSE_SCRIPTS_BUCKET"], Key="athena-results/q.csv", Body=b"seed")
    s3.put_object(Bucket=env["LAKEHOUSE_BRONZE_BUCKET"], Key="orders/ingestion_date=2024-01-01/part-00000.parquet",
                  Body=b"seed")
    iam = admin.client("iam", endpoint_url=endpoint)
    orchestrator_arn = account.outputs["OrchestratorRoleArn"]
    users = {name: _user_allowed_to_assume(iam, name, orchestrator_arn) for name in (RUNNER, INTRUDER)}
    glue_policies = _role_policies(iam, env["LAKEHOUSE_GLUE_ROLE_ARN"])
    orchestrator_policies = _role_policies(iam, orchestrator_arn)
    iam.put_role_policy(RoleName=orchestrator_arn.rsplit("/", 1)[1], PolicyName="moto-forms",
                        PolicyDocument=_moto_forms(orchestrator_policies))
    sts = admin.client("sts", endpoint_url=endpoint)
    glue = _assume(sts, env["LAKEHOUSE_GLUE_ROLE_ARN"])
    snowflake = _assume(sts, account.outputs["SnowflakeStorageIntegrationRoleArn"],
                        ExternalId="lakehouse-snowflake-pending")
    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=10).read()
    runner_sts = users[RUNNER].client("sts", endpoint_url=endpoint)
    orchestrator = _assume(runner_sts, orchestrator_arn)  # under enforcement: the trust policy is checked
    return Enforced(endpoint, account, glue, snowflake, glue_policies, users, orchestrator, orchestrator_policies)


def denied(client: Any, operation: str, **kwargs: Any) -> str:
    """The error code of a call expected to be refused; fails the test if the call succeeds."""
    bodies: list[bytes] = []
    client.meta.events.register("before-parse", lambda response_dict, **_: bodies.append(response_dict["body"]))
    with pytest.raises(ClientError) as error:
        getattr(client, operation)(**kwargs)
    code = error.value.response["Error"]["Code"]
    if code.isdigit():
        # moto answers JSON-protocol services (KMS, Glue) with its XML error body, which botocore cannot parse.
        found = re.search(rb"<Code>(\w+)</Code>", bodies[-1])
        code = found.group(1).decode() if found else code
    return code


def test_enforcement_is_on_for_the_account_administrator_keys(enforced: Enforced) -> None:
    admin = boto3.client("s3", region_name=REGION, endpoint_url=enforced.endpoint,
                         aws_access_key_id="testing", aws_secret_access_key="testing")
    assert denied(admin, "list_objects_v2", Bucket=enforced.bucket("gold")) == "InvalidAccessKeyId"


def test_the_glue_role_reads_landing_and_scripts_and_writes_every_layer(enforced: Enforced) -> None:
    s3 = enforced.client(enforced.glue, "s3")
    identity = enforced.client(enforced.glue, "sts").get_caller_identity()["Arn"]
    assert identity == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/lakehouse-test-glue/iam-test"
    landing = s3.get_object(Bucket=enforced.bucket("landing"), Key="files/part/ingestion_date=2024-01-01/part.csv")
    assert landing["Body"].read() == b"seed"
    assert s3.get_object(Bucket=enforced.bucket("scripts"), Key="glue/jobs/silver_build.py")["Body"].read() == b"seed"
    for layer in ("bronze", "silver", "gold", "quarantine"):
        bucket, key = enforced.bucket(layer), "probe/part-00000.parquet"
        s3.put_object(Bucket=bucket, Key=key, Body=b"written by glue")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"written by glue"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="probe/")["Contents"]] == [key]
        s3.delete_object(Bucket=bucket, Key=key)
    s3.put_object(Bucket=enforced.bucket("scripts"), Key="glue/tmp/spill.bin", Body=b"tmp")
    glue = enforced.client(enforced.glue, "glue")
    assert glue.get_security_configuration(Name="lakehouse")["SecurityConfiguration"]["Name"] == "lakehouse"


def test_the_glue_role_cannot_write_landing_replace_scripts_or_read_athena_results(enforced: Enforced) -> None:
    s3 = enforced.client(enforced.glue, "s3")
    landing, scripts = enforced.bucket("landing"), enforced.bucket("scripts")
    key = "files/part/ingestion_date=2024-01-01/part.csv"
    new_file = "files/part/ingestion_date=2024-01-02/x.csv"
    assert denied(s3, "put_object", Bucket=landing, Key=new_file, Body=b"x") in DENIED
    assert denied(s3, "delete_object", Bucket=landing, Key=key) in DENIED
    assert denied(s3, "put_object", Bucket=scripts, Key="glue/jobs/silver_build.py", Body=b"evil") in DENIED
    assert denied(s3, "get_object", Bucket=scripts, Key="athena-results/q.csv") in DENIED
    assert denied(s3, "list_objects_v2", Bucket=enforced.account.outputs["AccessLogsBucketName"]) in DENIED
    assert denied(s3, "delete_bucket", Bucket=enforced.bucket("bronze")) in DENIED
    assert denied(s3, "put_bucket_policy", Bucket=enforced.bucket("gold"),
                  Policy=json.dumps({"Version": "2012-10-17", "Statement": []})) in DENIED


def test_the_glue_role_cannot_delete_the_key_escalate_or_reshape_glue(enforced: Enforced) -> None:
    env = enforced.account.env
    kms = enforced.client(enforced.glue, "kms")
    assert denied(kms, "schedule_key_deletion", KeyId=env["LAKEHOUSE_KMS_KEY_ID"], PendingWindowInDays=7) in DENIED
    assert denied(kms, "disable_key", KeyId=env["LAKEHOUSE_KMS_KEY_ID"]) in DENIED
    iam = enforced.client(enforced.glue, "iam")
    admin_policy = json.dumps({"Version": "2012-10-17",
                               "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    assert denied(iam, "put_role_policy", RoleName="lakehouse-test-glue", PolicyName="escalate",
                  PolicyDocument=admin_policy) in DENIED
    glue = enforced.client(enforced.glue, "glue")
    assert denied(glue, "delete_database", Name="silver") in DENIED
    assert denied(glue, "start_job_run", JobName="lakehouse-silver_build") in DENIED
    assert denied(glue, "delete_crawler", Name="lakehouse-gold-crawler") in DENIED


def test_the_snowflake_role_reads_gold_only(enforced: Enforced) -> None:
    s3 = enforced.client(enforced.snowflake, "s3")
    gold = enforced.bucket("gold")
    assert s3.get_object(Bucket=gold, Key="daily_revenue/part-00000.parquet")["Body"].read() == b"seed"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=gold)["Contents"]] == ["daily_revenue/part-00000.parquet"]
    assert denied(s3, "put_object", Bucket=gold, Key="daily_revenue/x.parquet", Body=b"x") in DENIED
    assert denied(s3, "get_object", Bucket=enforced.bucket("silver"),
                  Key="orders/ingestion_date=2024-01-01/part-00000.parquet") in DENIED
    assert denied(s3, "list_objects_v2", Bucket=enforced.bucket("silver")) in DENIED
    assert denied(s3, "get_object", Bucket=enforced.bucket("landing"),
                  Key="files/part/ingestion_date=2024-01-01/part.csv") in DENIED


def _permitted(
    policies: list[dict[str, Any]], action: str, resource: str, context: dict[str, str] | None = None
) -> bool:
    """Whether the policies allow the action on the resource (moto's IAM engine; any Deny wins)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    results = [IAMPolicy(json.dumps(p)).is_action_permitted(action, resource, incoming_condition_values=context)
               for p in policies]
    return PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results


def test_the_glue_roles_resource_scoped_grants_cover_the_lakehouse_catalog_and_key_only(enforced: Enforced) -> None:
    policies, key = enforced.glue_policies, enforced.account.env["LAKEHOUSE_KMS_KEY_ID"]
    arn = f"arn:aws:glue:{REGION}:{ACCOUNT_ID}"
    for layer in ("bronze", "silver", "gold", "quarantine"):
        assert _permitted(policies, "glue:CreateTable", f"{arn}:table/{layer}/orders")
        assert _permitted(policies, "glue:BatchCreatePartition", f"{arn}:table/{layer}/orders")
        assert _permitted(policies, "glue:GetDatabase", f"{arn}:database/{layer}")
        assert not _permitted(policies, "glue:DeleteDatabase", f"{arn}:database/{layer}")
    assert not _permitted(policies, "glue:CreateTable", f"{arn}:table/default/orders")
    assert not _permitted(policies, "glue:GetTable", f"{arn}:table/landing/orders")
    assert _permitted(policies, "kms:Decrypt", key) and _permitted(policies, "kms:GenerateDataKey", key)
    assert not _permitted(policies, "kms:ScheduleKeyDeletion", key)
    assert not _permitted(policies, "kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/other")
    metric = {"cloudwatch:namespace": "Lakehouse"}
    assert _permitted(policies, "cloudwatch:PutMetricData", "*", metric)
    assert not _permitted(policies, "cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "AWS/Billing"})


# ------------------------------------------------------------------------------------ orchestrator role
def test_only_the_configured_principal_assumes_the_orchestrator_role(enforced: Enforced) -> None:
    identity = enforced.client(enforced.orchestrator, "sts").get_caller_identity()["Arn"]
    assert identity == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/lakehouse-test-orchestrator/iam-test"
    intruder = enforced.client(enforced.users[INTRUDER], "sts")
    role_arn = enforced.account.outputs["OrchestratorRoleArn"]
    assert denied(intruder, "assume_role", RoleArn=role_arn, RoleSessionName="probe") in DENIED
    runner = enforced.client(enforced.users[RUNNER], "sts")
    assert denied(runner, "assume_role", RoleArn=enforced.account.env["LAKEHOUSE_GLUE_ROLE_ARN"],
                  RoleSessionName="probe") in DENIED


@pytest.fixture
def orchestrator_env(enforced: Enforced, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    """pyarrow's S3 client (the warehouse, the write path) signing with the orchestrator role's credentials."""
    credentials = enforced.orchestrator.get_credentials().get_frozen_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials.token)
    monkeypatch.setenv("AWS_ENDPOINT_URL", enforced.endpoint)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return Warehouse(**{layer: f"s3://{enforced.bucket(layer)}" for layer in LAYERS})


def test_the_orchestrator_lists_landing_and_swaps_partitions_in_the_layers(
    enforced: Enforced, orchestrator_env: Warehouse
) -> None:
    from glue_scripts.common import writer

    listing = list_landing(orchestrator_env, "files", LandingCursor())
    assert listing.problems == []
    assert list(listing.partitions) == [("files__part", "2024-01-01")]
    assert list(listing.partitions["files__part", "2024-01-01"]) == ["part.csv"]
    table_uri = orchestrator_env.uri("silver", "probe")
    for amount in (1.0, 2.0):  # the second write replaces the first: copy in, delete the old objects
        writer.write_arrow(pa.table({"amount": [amount]}), table_uri, "ingestion_date=2024-01-01")
    assert read_table(table_uri).column("amount").to_pylist() == [2.0]
    s3 = enforced.client(enforced.orchestrator, "s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=enforced.bucket("silver"), Prefix="probe/")["Contents"]]
    # Staged files were deleted after the swap (pyarrow's empty folder markers aside).
    assert [k for k in keys if not k.endswith("/")] == ["probe/ingestion_date=2024-01-01/part-00000.parquet"]


def test_the_orchestrator_writes_layers_pipes_context_and_athena_results(enforced: Enforced) -> None:
    from dagster_aws.pipes import PipesS3ContextInjector

    s3 = enforced.client(enforced.orchestrator, "s3")
    bronze = enforced.bucket("bronze")
    s3.put_object(Bucket=bronze, Key="orders/ingestion_date=2024-01-02/part-00000.parquet", Body=b"written")
    seeded = s3.get_object(Bucket=bronze, Key="orders/ingestion_date=2024-01-01/part-00000.parquet")
    assert seeded["Body"].read() == b"seed"
    for layer in ("silver", "gold", "quarantine"):
        s3.put_object(Bucket=enforced.bucket(layer), Key="probe/x.parquet", Body=b"x")
        s3.delete_object(Bucket=enforced.bucket(layer), Key="probe/x.parquet")
    scripts = enforced.bucket("scripts")
    injector = PipesS3ContextInjector(client=s3, bucket=scripts, key_prefix="pipes")  # as AwsGlueJobs wires it
    glue_s3 = enforced.client(enforced.glue, "s3")
    with injector.inject_context({"run_id": "r1"}) as params:  # type: ignore[arg-type]
        # The Glue job reads the context with its own role (PipesS3ContextLoader); the orchestrator cannot.
        assert json.loads(glue_s3.get_object(Bucket=scripts, Key=params["key"])["Body"].read()) == {"run_id": "r1"}
        assert denied(s3, "get_object", Bucket=scripts, Key=params["key"]) in DENIED
    assert denied(glue_s3, "get_object", Bucket=scripts, Key=params["key"]) == "NoSuchKey"  # deleted after the run
    s3.put_object(Bucket=scripts, Key="athena-results/q2.csv", Body=b"result")
    assert s3.get_object(Bucket=scripts, Key="athena-results/q.csv")["Body"].read() == b"seed"


def test_the_orchestrator_cannot_write_landing_deploy_scripts_or_reshape_buckets(enforced: Enforced) -> None:
    s3 = enforced.client(enforced.orchestrator, "s3")
    landing, scripts = enforced.bucket("landing"), enforced.bucket("scripts")
    key = "files/part/ingestion_date=2024-01-01/part.csv"
    new_file = "files/part/ingestion_date=2024-01-02/x.csv"
    assert denied(s3, "put_object", Bucket=landing, Key=new_file, Body=b"x") in DENIED
    assert denied(s3, "delete_object", Bucket=landing, Key=key) in DENIED
    assert denied(s3, "get_object", Bucket=landing, Key=key) in DENIED  # the sensors only list
    assert denied(s3, "put_object", Bucket=scripts, Key="glue/jobs/silver_build.py", Body=b"evil") in DENIED
    assert denied(s3, "get_object", Bucket=scripts, Key="glue/jobs/silver_build.py") in DENIED
    assert denied(s3, "list_objects_v2", Bucket=enforced.account.outputs["AccessLogsBucketName"]) in DENIED
    assert denied(s3, "delete_bucket", Bucket=enforced.bucket("bronze")) in DENIED
    assert denied(s3, "put_bucket_policy", Bucket=enforced.bucket("gold"),
                  Policy=json.dumps({"Version": "2012-10-17", "Statement": []})) in DENIED
    kms = enforced.client(enforced.orchestrator, "kms")
    key_id = enforced.account.env["LAKEHOUSE_KMS_KEY_ID"]
    assert denied(kms, "schedule_key_deletion", KeyId=key_id, PendingWindowInDays=7) in DENIED
    iam = enforced.client(enforced.orchestrator, "iam")
    admin_policy = json.dumps({"Version": "2012-10-17",
                               "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    assert denied(iam, "put_role_policy", RoleName="lakehouse-test-orchestrator", PolicyName="escalate",
                  PolicyDocument=admin_policy) in DENIED


def test_the_orchestrators_resource_scoped_grants(enforced: Enforced) -> None:
    policies, env = enforced.orchestrator_policies, enforced.account.env
    arn, key = f"arn:aws:glue:{REGION}:{ACCOUNT_ID}", env["LAKEHOUSE_KMS_KEY_ID"]
    job = f"{arn}:job/lakehouse-silver_build"
    for action in ("StartJobRun", "GetJobRun", "GetJobRuns", "BatchStopJobRun", "GetJob"):
        assert _permitted(policies, f"glue:{action}", job), action
    assert not _permitted(policies, "glue:StartJobRun", f"{arn}:job/someone-elses-job")
    for action in ("CreateJob", "UpdateJob", "DeleteJob"):  # deploying is not the orchestrator's job
        assert not _permitted(policies, f"glue:{action}", job), action
    assert not _permitted(policies, "iam:PassRole", env["LAKEHOUSE_GLUE_ROLE_ARN"])
    for layer in ("bronze", "silver", "gold", "quarantine"):
        table = f"{arn}:table/{layer}/orders"
        for action in ("GetTable", "CreateTable", "UpdateTable", "DeleteTable", "GetPartitions",
                       "BatchCreatePartition", "BatchDeletePartition"):
            assert _permitted(policies, f"glue:{action}", table), (layer, action)
        assert _permitted(policies, "glue:GetDatabase", f"{arn}:database/{layer}")
        assert not _permitted(policies, "glue:DeleteDatabase", f"{arn}:database/{layer}")
        crawler = f"{arn}:crawler/lakehouse-{layer}-crawler"
        for action in ("StartCrawler", "GetCrawler", "ListCrawls"):
            assert _permitted(policies, f"glue:{action}", crawler), (layer, action)
        assert not _permitted(policies, "glue:UpdateCrawler", crawler)
        assert not _permitted(policies, "glue:DeleteCrawler", crawler)
    assert not _permitted(policies, "glue:CreateTable", f"{arn}:table/default/orders")
    assert not _permitted(policies, "glue:CreateDatabase", f"{arn}:database/landing")
    workgroup = f"arn:aws:athena:{REGION}:{ACCOUNT_ID}:workgroup/{env['LAKEHOUSE_ATHENA_WORKGROUP']}"
    for action in ("StartQueryExecution", "GetQueryExecution", "GetQueryResults", "StopQueryExecution"):
        assert _permitted(policies, f"athena:{action}", workgroup), action
    primary = f"arn:aws:athena:{REGION}:{ACCOUNT_ID}:workgroup/primary"
    assert not _permitted(policies, "athena:StartQueryExecution", primary)
    assert not _permitted(policies, "athena:UpdateWorkGroup", workgroup)
    logs = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group"
    output = f"{logs}:/aws-glue/jobs-lakehouse-role/lakehouse-test-glue/output"
    assert _permitted(policies, "logs:DescribeLogStreams", output)
    assert _permitted(policies, "logs:GetLogEvents", f"{output}:log-stream:jr_0123")
    assert _permitted(policies, "logs:GetLogEvents", f"{logs}:/aws-glue/jobs/output:log-stream:jr_0123")
    assert not _permitted(policies, "logs:GetLogEvents", f"{logs}:/ecs/other:log-stream:x")
    assert not _permitted(policies, "logs:DeleteLogGroup", output)
    via_s3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert _permitted(policies, "kms:GenerateDataKey", key, via_s3) and _permitted(policies, "kms:Decrypt", key, via_s3)
    assert not _permitted(policies, "kms:Decrypt", key, {"kms:ViaService": f"glue.{REGION}.amazonaws.com"})
    assert not _permitted(policies, "kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/other", via_s3)
    assert not _permitted(policies, "kms:ScheduleKeyDeletion", key, via_s3)
    assert _permitted(policies, "cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "Lakehouse"})
    for namespace in ("Glue", "AWS/Billing"):
        assert not _permitted(policies, "cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": namespace})
