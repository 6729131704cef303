"""Create the emulated AWS account from infra/lakehouse.yaml, through real boto3 clients (a moto server).

The CloudFormation template is the single source of truth: every name, ARN and property below comes
from it. A small resolver evaluates the intrinsic functions the template uses (Ref, Fn::Sub,
Fn::GetAtt, Fn::Join, Fn::If, ...) over its Parameters, Conditions and Resources; each supported
resource type is then created with the matching API call, in dependency order (a resource whose
references are not created yet waits for a later pass). The template's Outputs, mapped to environment
variables by its `Lakehouse::EnvironmentVariables` metadata, become the aws profile's environment.

Why not moto's CloudFormation (`create_stack`)? moto 5.2 deploys only some of these types from a
stack (S3::Bucket, KMS::Key/Alias, IAM::Role, SNS::Topic); it has no model for S3::BucketPolicy,
Glue::*, Athena::WorkGroup or CloudWatch::Alarm, and of a bucket's properties it applies only
BucketEncryption and Tags (no public access block, versioning or logging). The resolver creates all.

Bucket policies: moto evaluates a bucket policy's Deny statements on object requests, but without any
request context, so their conditions never hold them back: the template's conditional denies
(`aws:SecureTransport` false, `s3:x-amz-server-side-encryption` != aws:kms) would deny every object
read and write. By default the policies are therefore recorded whole (`Account.bucket_policies`) and
installed without those conditional denies (a layer bucket's policy then has no statement left and is
not installed; the access-log bucket keeps its log-delivery grant); `enforce_bucket_policies=True`
installs them verbatim.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "lakehouse.yaml"
ENV_METADATA_KEY = "Lakehouse::EnvironmentVariables"
MOTO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


# ------------------------------------------------------------------------------------------ loading
class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that understands the CloudFormation short-form tags (!Ref, !Sub, !GetAtt, ...)."""


_SHORT_FORMS = ("Base64", "Cidr", "Equals", "FindInMap", "GetAZs", "If", "ImportValue", "Join", "Not",
                "And", "Or", "Select", "Split", "Sub", "Transform", "ToJsonString", "Length")


def _construct(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _short_form(function: str) -> Callable[[yaml.SafeLoader, yaml.Node], Any]:
    return lambda loader, node: {function: _construct(node, loader)}


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    value = _construct(node, loader)
    return {"Fn::GetAtt": value.split(".", 1) if isinstance(value, str) else value}


CloudFormationLoader.add_constructor("!Ref", _short_form("Ref"))
CloudFormationLoader.add_constructor("!Condition", _short_form("Condition"))
CloudFormationLoader.add_constructor("!GetAtt", _get_att)
for _name in _SHORT_FORMS:
    CloudFormationLoader.add_constructor(f"!{_name}", _short_form(f"Fn::{_name}"))


def load_template(path: str | Path = DEFAULT_TEMPLATE) -> dict[str, Any]:
    """The template as plain data, short-form tags turned into their long forms."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=CloudFormationLoader)  # noqa: S506 - SafeLoader subclass


# ----------------------------------------------------------------------------------------- resolving
class Unresolved(LookupError):
    """A reference to a resource that has not been created (yet)."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()
_SUB_PATTERN = re.compile(r"\$\{([^}]+)\}")


class Resolver:
    """Evaluates intrinsic functions over the template's parameters, conditions and created resources."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str], account_id: str,
                 region: str, stack_name: str = "lakehouse") -> None:
        self.template = template
        declared = template.get("Parameters", {})
        unknown = set(parameters) - set(declared)
        if unknown:
            raise ValueError(f"parameters not declared by the template: {sorted(unknown)}")
        self.parameters: dict[str, Any] = {}
        for name, spec in declared.items():
            if name in parameters:
                value = str(parameters[name])
            elif "Default" in spec:
                value = str(spec["Default"])
            else:
                raise ValueError(f"template parameter {name} has no default; pass it")
            pattern = spec.get("AllowedPattern")
            if pattern and not re.fullmatch(pattern, value):
                raise ValueError(f"parameter {name}={value!r} does not match {pattern}")
            if spec.get("AllowedValues") and value not in [str(v) for v in spec["AllowedValues"]]:
                raise ValueError(f"parameter {name}={value!r} is not one of {spec['AllowedValues']}")
            self.parameters[name] = value
        partition = "aws-cn" if region.startswith("cn-") else "aws"
        self.pseudo: dict[str, Any] = {
            "AWS::AccountId": account_id, "AWS::Region": region, "AWS::Partition": partition,
            "AWS::StackName": stack_name, "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": NO_VALUE,
            "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/emulated",
        }
        self.refs: dict[str, Any] = {}
        self.attributes: dict[str, dict[str, Any]] = {}
        self._conditions: dict[str, bool] = {}

    # references
    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        if name in self.template.get("Resources", {}):
            raise Unresolved(name)
        raise KeyError(f"Ref to unknown name {name!r}")

    def get_att(self, resource: str, attribute: str) -> Any:
        if resource not in self.template.get("Resources", {}):
            raise KeyError(f"GetAtt of unknown resource {resource!r}")
        if resource not in self.attributes:
            raise Unresolved(resource)
        try:
            return self.attributes[resource][attribute]
        except KeyError:
            raise KeyError(f"GetAtt {resource}.{attribute} is not emulated") from None

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self.resolve(self.template["Conditions"][name]))
        return self._conditions[name]

    # evaluation
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Condition":
                return self.condition(argument)
            if key.startswith("Fn::"):
                return self._function(key[4:], argument)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _function(self, name: str, argument: Any) -> Any:
        if name == "GetAtt":
            resource, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self.get_att(resource, self.resolve(attribute))
        if name == "Sub":
            return self._sub(argument)
        if name == "If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        args = self.resolve(argument)
        if name == "Join":
            return str(args[0]).join(str(part) for part in args[1])
        if name == "Equals":
            return str(args[0]) == str(args[1])
        if name == "Not":
            return not args[0]
        if name == "And":
            return all(args)
        if name == "Or":
            return any(args)
        if name == "Select":
            return args[1][int(args[0])]
        if name == "Split":
            return str(args[1]).split(str(args[0]))
        if name == "ToJsonString":
            return json.dumps(args)
        raise NotImplementedError(f"Fn::{name} is not emulated")

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], {k: self.resolve(v) for k, v in argument[1].items()}
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return str(variables[expression])
            if "." in expression and expression.split(".", 1)[0] in self.template.get("Resources", {}):
                return str(self.get_att(*expression.split(".", 1)))
            return str(self.ref(expression))

        return _SUB_PATTERN.sub(replace, text)


# ----------------------------------------------------------------------------------------- creating
def moto_safe_policy(document: Mapping[str, Any]) -> dict[str, Any]:
    """The policy without its conditional Deny statements, which moto would apply unconditionally.

    moto checks a bucket policy on object requests without any request context, so a conditional Deny
    (SecureTransport, encryption header, ...) matches every request. Allow statements stay: they are
    what S3 itself checks (e.g. PutBucketLogging wants the log-delivery grant on the target bucket).
    """
    statements = document["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    kept = [s for s in statements if not (s.get("Effect") == "Deny" and s.get("Condition"))]
    return {**document, "Statement": kept}


@dataclass
class Account:
    """What was created: the aws profile's environment, the template's outputs and every physical id."""

    env: dict[str, str]
    outputs: dict[str, str]
    refs: dict[str, Any]
    attributes: dict[str, dict[str, Any]]
    bucket_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _tags_kv(tags: list[dict[str, str]] | None, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: t["Key"], value: str(t["Value"])} for t in tags or []]


def _pick(props: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {n: props[n] for n in names if n in props}


def _ints(props: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        if name in props:
            props[name] = int(float(props[name]))
    return props


class _Creator:
    def __init__(self, client: Callable[[str], Any], account_id: str, region: str, partition: str,
                 enforce_bucket_policies: bool) -> None:
        self.client = client
        self.account_id = account_id
        self.region = region
        self.partition = partition
        self.enforce_bucket_policies = enforce_bucket_policies
        self.bucket_policies: dict[str, dict[str, Any]] = {}

    # Each handler creates one resource and returns (Ref value, GetAtt attributes).
    def kms_key(self, p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        kms = self.client("kms")
        key = kms.create_key(
            Policy=json.dumps(p["KeyPolicy"]),
            **_pick(p, "Description", "KeyUsage", "KeySpec"),
            Tags=_tags_kv(p.get("Tags"), "TagKey", "TagValue"),
        )["KeyMetadata"]
        if p.get("EnableKeyRotation") in (True, "true", "True"):
            kms.enable_key_rotation(KeyId=key["KeyId"])
        return key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]}

    def kms_alias(self, p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self.client("kms").create_alias(AliasName=p["AliasName"], TargetKeyId=p["TargetKeyId"])
        return p["AliasName"], {}

    def s3_bucket(self, p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        s3, name = self.client("s3"), p["BucketName"]
        create: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        if "OwnershipControls" in p:
            create["ObjectOwnership"] = p["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
        s3.create_bucket(**create)
        if "BucketEncryption" in p:
            rules = [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                 **({"BucketKeyEnabled": bool(rule["BucketKeyEnabled"])} if "BucketKeyEnabled" in rule else {})}
                for rule in p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in p:
            block = {k: bool(v) for k, v in p["PublicAccessBlockConfiguration"].items()}
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
        if "VersioningConfiguration" in p:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=p["VersioningConfiguration"])
        if "LoggingConfiguration" in p:
            logging = p["LoggingConfiguration"]
            s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={"LoggingEnabled": {
                "TargetBucket": logging["DestinationBucketName"], "TargetPrefix": logging.get("LogFilePrefix", "")}})
        if p.get("Tags"):
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tags_kv(p["Tags"])})
        arn = f"arn:{self.partition}:s3:::{name}"
        return name, {"Arn": arn, "DomainName": f"{name}.s3.amazonaws.com",
                      "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com"}

    def s3_bucket_policy(self, p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self.bucket_policies[p["Bucket"]] = p["PolicyDocument"]
        document = moto_safe_policy(p["PolicyDocument"])
        if document["Statement"]:
            self.client("s3").put_bucket_policy(Bucket=p["Bucket"], Policy=json.dumps(document))
        return p["Bucket"], {}

    def enforce_policies(self) -> None:
        """Install the verbatim policies last: moto's PutBucketLogging crashes (500) on a target bucket
        whose policy has a statement with `Principal: "*"`, so the buckets must be configured first."""
        for name, document in self.bucket_policies.items():
            self.client("s3").put_bucket_policy(Bucket=name, Policy=json.dumps(document))

    def iam_role(self, p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        iam, name = self.client("iam"), p["RoleName"]
        role = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"]),
            **_ints(_pick(p, "Description", "Path", "MaxSessionDuration"), "MaxSessionDuration"),
            Tags=_tags_kv(p.get("Tags")),
        )["Role"]
        for policy in p.get("Policies", []):
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                PolicyDocument=json.dumps(policy["PolicyDocument"]))
        for arn in p.get("ManagedPolicyArns", []):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        return name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}

    def sns_topic(self, p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        attributes = {k: str(v) for k, v in _pick(p, "KmsMasterKeyId", "DisplayName").items()}
        arn = self.client("sns").create_topic(Name=p["TopicName"], Attributes=attributes,
                                              Tags=_tags_kv(p.get("Tags")))["TopicArn"]
        return arn, {"TopicArn": arn, "TopicName": p["TopicName"]}

    def glue_security_configuration(self, p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        config = dict(p["EncryptionConfiguration"])
        if "S3Encryptions" in config:
            config["S3Encryption"] = config.pop("S3Encryptions")
        self.client("glue").create_security_configuration(Name=p["Name"], EncryptionConfiguration=config)
        return p["Name"], {}

    def glue_database(self, p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self.client("glue").create_database(CatalogId=str(p["CatalogId"]), DatabaseInput=p["DatabaseInput"])
        return p["DatabaseInput"]["Name"], {}

    def glue_crawler(self, p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        fields = _pick(p, "Name", "Role", "DatabaseName", "Description", "Targets", "Schedule", "Classifiers",
                       "TablePrefix", "SchemaChangePolicy", "RecrawlPolicy", "Configuration",
                       "CrawlerSecurityConfiguration", "Tags")
        self.client("glue").create_crawler(**fields)
        return p["Name"], {}

    def glue_job(self, p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        fields = _ints(_pick(p, "Name", "Description", "Role", "Command", "DefaultArguments",
                             "NonOverridableArguments", "ExecutionProperty", "GlueVersion", "WorkerType",
                             "NumberOfWorkers", "Timeout", "MaxRetries", "SecurityConfiguration", "Tags",
                             "ExecutionClass"), "NumberOfWorkers", "Timeout", "MaxRetries")
        if "ExecutionProperty" in fields:
            fields["ExecutionProperty"] = _ints(dict(fields["ExecutionProperty"]), "MaxConcurrentRuns")
        self.client("glue").create_job(**fields)
        return p["Name"], {}

    def athena_workgroup(self, p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self.client("athena").create_work_group(
            Name=p["Name"], Configuration=p.get("WorkGroupConfiguration", {}),
            Description=p.get("Description", ""), Tags=_tags_kv(p.get("Tags")),
        )
        return p["Name"], {}

    def cloudwatch_alarm(self, p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        fields = _pick(p, "AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions",
                       "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic",
                       "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
                       "ComparisonOperator", "TreatMissingData", "Metrics")
        _ints(fields, "Period", "EvaluationPeriods", "DatapointsToAlarm")
        fields["Threshold"] = float(fields["Threshold"])
        for metric in fields.get("Metrics", []):
            _ints(metric, "Period")
        self.client("cloudwatch").put_metric_alarm(**fields)
        arn = f"arn:{self.partition}:cloudwatch:{self.region}:{self.account_id}:alarm:{p['AlarmName']}"
        return p["AlarmName"], {"Arn": arn}


HANDLERS: dict[str, str] = {
    "AWS::KMS::Key": "kms_key",
    "AWS::KMS::Alias": "kms_alias",
    "AWS::S3::Bucket": "s3_bucket",
    "AWS::S3::BucketPolicy": "s3_bucket_policy",
    "AWS::IAM::Role": "iam_role",
    "AWS::SNS::Topic": "sns_topic",
    "AWS::Glue::SecurityConfiguration": "glue_security_configuration",
    "AWS::Glue::Database": "glue_database",
    "AWS::Glue::Crawler": "glue_crawler",
    "AWS::Glue::Job": "glue_job",
    "AWS::Athena::WorkGroup": "athena_workgroup",
    "AWS::CloudWatch::Alarm": "cloudwatch_alarm",
}


def deploy_template(
    session_or_endpoint: Any,
    template_path: str | Path = DEFAULT_TEMPLATE,
    env_name: str = "test",
    *,
    parameters: Mapping[str, str] | None = None,
    endpoint_url: str | None = None,
    enforce_bucket_policies: bool = False,
) -> Account:
    """Create every supported resource of the template; return what was created and the environment."""
    import boto3

    env: dict[str, str] = {"LAKEHOUSE_ENV": "aws"}
    if isinstance(session_or_endpoint, str):
        endpoint_url = session_or_endpoint
        session = boto3.Session(aws_access_key_id=MOTO_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=MOTO_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                                region_name="us-east-1")
        env.update(MOTO_CREDENTIALS)
    else:
        session = session_or_endpoint
    region = session.region_name or "us-east-1"
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            kwargs = {"region_name": region, **({"endpoint_url": endpoint_url} if endpoint_url else {})}
            clients[service] = session.client(service, **kwargs)
        return clients[service]

    account_id = client("sts").get_caller_identity()["Account"]
    template = load_template(template_path)
    resolver = Resolver(template, {**(parameters or {}), "Environment": env_name}, account_id, region)
    creator = _Creator(client, account_id, region, resolver.pseudo["AWS::Partition"], enforce_bucket_policies)

    resources: dict[str, dict[str, Any]] = template.get("Resources", {})
    pending: list[str] = []
    skipped: dict[str, str] = {}
    for logical_id, resource in resources.items():
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            skipped[logical_id] = f"condition {resource['Condition']} is false"
        elif resource["Type"] not in HANDLERS:
            skipped[logical_id] = f"{resource['Type']} is not emulated"
        else:
            pending.append(logical_id)
    created: dict[str, str] = {}
    while pending:
        waiting: list[str] = []
        for logical_id in pending:
            resource = resources[logical_id]
            if any(dep not in created and dep not in skipped for dep in _depends_on(resource)):
                waiting.append(logical_id)
                continue
            try:
                properties = resolver.resolve(resource.get("Properties", {}))
            except Unresolved:
                waiting.append(logical_id)
                continue
            ref, attributes = getattr(creator, HANDLERS[resource["Type"]])(properties)
            resolver.refs[logical_id], resolver.attributes[logical_id] = ref, attributes
            created[logical_id] = resource["Type"]
        if len(waiting) == len(pending):
            raise RuntimeError(f"cannot resolve the references of {waiting} (cycle, or a skipped resource)")
        pending = waiting
    if enforce_bucket_policies:
        creator.enforce_policies()

    outputs = {name: str(resolver.resolve(spec["Value"])) for name, spec in template.get("Outputs", {}).items()
               if "Condition" not in spec or resolver.condition(spec["Condition"])}
    for variable, output in template.get("Metadata", {}).get(ENV_METADATA_KEY, {}).items():
        env[variable] = outputs[output]
    env.setdefault("AWS_DEFAULT_REGION", env.get("AWS_REGION", region))
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return Account(env=env, outputs=outputs, refs=dict(resolver.refs), attributes=dict(resolver.attributes),
                   bucket_policies=creator.bucket_policies, created=created, skipped=skipped)


def _depends_on(resource: Mapping[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


def create_account_from_template(
    session_or_endpoint: Any,
    template_path: str | Path = DEFAULT_TEMPLATE,
    env_name: str = "test",
    **options: Any,
) -> dict[str, str]:
    """Create the account the template declares; return the aws profile's environment variables.

    `session_or_endpoint` is a moto server URL (dummy credentials, us-east-1, which the environment then
    carries too) or a boto3 Session (pass `endpoint_url=` unless the session's config already has one).
    Options go to `deploy_template` (`parameters`, `endpoint_url`, `enforce_bucket_policies`).
    """
    return deploy_template(session_or_endpoint, template_path, env_name, **options).env
