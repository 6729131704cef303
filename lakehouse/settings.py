"""The one place that reads the profile (`LAKEHOUSE_ENV`: local | aws) and its environment variables."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from glue_scripts.engine import ENGINES

LAYERS: tuple[str, ...] = ("landing", "bronze", "silver", "gold", "quarantine")
PROFILES: tuple[str, ...] = ("local", "aws")
DEFAULT_ROOT = ".lakehouse"
DEFAULT_API_TOKEN_ENV = "LAKEHOUSE_API_TOKEN"
DEFAULT_START_DATE = "2024-01-01"
DEFAULT_WORLD_DAYS = 3


class SettingsError(ValueError):
    """The profile cannot start: a variable is missing or malformed."""


@dataclass(frozen=True)
class Variable:
    """One environment variable of a profile, as the README's configuration table lists it."""

    name: str
    profile: str
    required: bool
    default: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable("LAKEHOUSE_ENV", "both", False, "local", "Profile: `local` (embedded) or `aws`."),
    Variable("LAKEHOUSE_ROOT", "both", False, DEFAULT_ROOT, "Warehouse root: local layers, sources, catalog, DuckDB, fakesnow and the Dagster instance."),
    Variable("LAKEHOUSE_START_DATE", "aws", False, DEFAULT_START_DATE, "First ingestion date (`YYYY-MM-DD`) of the daily partitions, which run to the latest complete UTC day; locally the partitions are the simulated world's days."),
    Variable("LAKEHOUSE_DB_URL", "both", False, "SQLite under the root", "Database source, `jdbc:sqlite:<path>` or `jdbc:postgresql://host:port/db`."),
    Variable("LAKEHOUSE_DB_USER", "both", False, "", "Database source user (PostgreSQL)."),
    Variable("LAKEHOUSE_DB_PASSWORD", "both", False, "", "Database source password; read by the job from the environment, never logged."),
    Variable("LAKEHOUSE_ENGINE", "local", False, "duckdb", "Engine of the local silver and gold jobs: `duckdb` or `spark` (bronze needs no engine; the aws profile always runs Spark on Glue)."),
    Variable("LAKEHOUSE_API_URL", "both", False, "embedded simulator", "CRM API base URL; locally an in-process simulator starts when unset."),
    Variable(DEFAULT_API_TOKEN_ENV, "both", False, "local-dev-token", "Bearer token for the CRM API."),
    Variable("LAKEHOUSE_LANDING_BUCKET", "aws", True, "", "S3 bucket (optionally `bucket/prefix`) of the landing zone."),
    Variable("LAKEHOUSE_BRONZE_BUCKET", "aws", True, "", "S3 bucket (or `bucket/prefix`) of the bronze layer."),
    Variable("LAKEHOUSE_SILVER_BUCKET", "aws", True, "", "S3 bucket (or `bucket/prefix`) of the silver layer."),
    Variable("LAKEHOUSE_GOLD_BUCKET", "aws", True, "", "S3 bucket (or `bucket/prefix`) of the gold layer."),
    Variable("LAKEHOUSE_QUARANTINE_BUCKET", "aws", True, "", "S3 bucket (or `bucket/prefix`) of the quarantine."),
    Variable("LAKEHOUSE_SCRIPTS_BUCKET", "aws", True, "", "S3 bucket (or `bucket/prefix`) for Glue scripts, Pipes context and temp files."),
    Variable("AWS_REGION", "aws", True, "", "AWS region of every service."),
    Variable("LAKEHOUSE_KMS_KEY_ID", "aws", True, "", "KMS key (id, ARN or alias) for SSE-KMS on every object written."),
    Variable("LAKEHOUSE_GLUE_ROLE_ARN", "aws", True, "", "IAM role the Glue jobs and crawlers assume."),
    Variable("LAKEHOUSE_GLUE_SECURITY_CONFIGURATION", "aws", False, "lakehouse", "Glue security configuration (KMS for S3, logs, bookmarks)."),
    Variable("LAKEHOUSE_GLUE_DATABASE_PREFIX", "aws", False, "", "Prefix of the Glue databases (`<prefix>bronze`, ...)."),
    Variable("LAKEHOUSE_NAME_PREFIX", "aws", False, "lakehouse", "Prefix of the Glue job and crawler names (the template's `NamePrefix`)."),
    Variable("LAKEHOUSE_GLUE_RUN_CRAWLERS", "aws", False, "true", "Run the layer's crawler after tables and partitions are registered directly (`false` skips it)."),
    Variable("LAKEHOUSE_GLUE_CRAWLER_TIMEOUT_SECONDS", "aws", False, "900", "How long an asset waits for its layer's crawler before failing."),
    Variable("LAKEHOUSE_ATHENA_WORKGROUP", "aws", True, "", "Athena workgroup (encrypted results, enforced configuration)."),
    Variable("LAKEHOUSE_ATHENA_OUTPUT", "aws", True, "", "Athena query result location, `s3://bucket/prefix/`."),
    Variable("SNOWFLAKE_ACCOUNT", "aws", True, "", "Snowflake account identifier."),
    Variable("SNOWFLAKE_USER", "aws", True, "", "Snowflake user."),
    Variable("SNOWFLAKE_PASSWORD", "aws", True, "", "Snowflake password, read through `dg.EnvVar`."),
    Variable("SNOWFLAKE_DATABASE", "both", False, "LAKEHOUSE", "Snowflake database for the published marts."),
    Variable("SNOWFLAKE_WAREHOUSE", "aws", False, "", "Snowflake virtual warehouse."),
    Variable("SNOWFLAKE_STORAGE_INTEGRATION", "aws", False, "LAKEHOUSE_S3", "Storage integration behind the gold external stage."),
    Variable("SNOWFLAKE_GOLD_STAGE", "aws", False, "LAKEHOUSE.GOLD.GOLD_STAGE", "External stage on the gold bucket that `COPY INTO` loads from."),
    Variable("AWS_ENDPOINT_URL", "aws", False, "", "Any AWS-compatible endpoint (the tests use a moto server)."),
)


@dataclass(frozen=True)
class Calendar:
    """What bounds the ingestion days: the profile, the root whose simulated world they are locally, the aws start."""

    profile: str
    root: Path
    start_date: date

    def world_days(self) -> list[str]:
        """The simulated world's ingestion days (`sources/manifest.json`); the default world's before one exists."""
        try:
            days = json.loads((self.root / "sources" / "manifest.json").read_text())["days"]
            return [date.fromisoformat(d).isoformat() for d in days] or _default_world()
        except (OSError, ValueError, KeyError, TypeError):
            return _default_world()


def _default_world() -> list[str]:
    start = date.fromisoformat(DEFAULT_START_DATE)
    return [(start + timedelta(days=i)).isoformat() for i in range(DEFAULT_WORLD_DAYS)]


def load_calendar(env: Mapping[str, str] | None = None) -> Calendar:
    """The profile, root and start date alone, so the partitions resolve even where other variables are missing."""
    env = os.environ if env is None else env
    profile = env.get("LAKEHOUSE_ENV", "local").strip() or "local"
    if profile not in PROFILES:
        raise SettingsError(f"LAKEHOUSE_ENV must be one of {', '.join(PROFILES)}, not {profile!r}")
    root = Path(env.get("LAKEHOUSE_ROOT") or DEFAULT_ROOT).expanduser().resolve()
    start = env.get("LAKEHOUSE_START_DATE", "").strip() or DEFAULT_START_DATE
    return Calendar(profile, root, _date(start, "LAKEHOUSE_START_DATE"))


@dataclass(frozen=True)
class Settings:
    """A resolved profile: where each layer lives and how to reach each service."""

    profile: str
    root: Path
    layer_uris: Mapping[str, str]
    db_url: str
    db_user: str
    api_url: str
    api_token_env: str
    region: str = "us-east-1"
    kms_key_id: str = ""
    glue_role_arn: str = ""
    glue_security_configuration: str = ""
    glue_database_prefix: str = ""
    name_prefix: str = "lakehouse"
    run_crawlers: bool = True
    crawler_timeout_seconds: float = 900.0
    scripts_uri: str = ""
    athena_workgroup: str = ""
    athena_output: str = ""
    snowflake_account: str = ""
    snowflake_user: str = ""
    snowflake_database: str = "LAKEHOUSE"
    snowflake_warehouse: str = ""
    snowflake_storage_integration: str = ""
    snowflake_gold_stage: str = ""
    endpoint_url: str = ""
    engine: str = "spark"

    @property
    def is_aws(self) -> bool:
        """True for the aws profile."""
        return self.profile == "aws"

    def uri(self, layer: str, *parts: str) -> str:
        """The URI of a layer, or of a path inside it (a local path in the local profile)."""
        return "/".join([self.layer_uris[layer].rstrip("/"), *parts])

    def database(self, layer: str) -> str:
        """The catalog database of a layer."""
        return f"{self.glue_database_prefix}{layer}"


def local_engine(env: Mapping[str, str]) -> str:
    """The local profile's engine from LAKEHOUSE_ENGINE (default duckdb); SettingsError for any other value."""
    engine = env.get("LAKEHOUSE_ENGINE", "").strip() or "duckdb"
    if engine not in ENGINES:
        raise SettingsError(f"LAKEHOUSE_ENGINE must be one of {', '.join(ENGINES)}, not {engine!r}")
    return engine


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Resolve the profile from the environment; the aws profile refuses to start with gaps."""
    env = os.environ if env is None else env
    calendar = load_calendar(env)
    profile, root = calendar.profile, calendar.root
    common = {
        "root": root,
        "db_url": env.get("LAKEHOUSE_DB_URL") or f"jdbc:sqlite:{root / 'sources' / 'db' / 'source.sqlite'}",
        "db_user": env.get("LAKEHOUSE_DB_USER", ""),
        "api_url": env.get("LAKEHOUSE_API_URL", ""),
        "api_token_env": DEFAULT_API_TOKEN_ENV,
        "snowflake_database": env.get("SNOWFLAKE_DATABASE") or "LAKEHOUSE",
    }
    if profile == "local":
        return Settings(profile="local", layer_uris={layer: str(root / layer) for layer in LAYERS}, engine=local_engine(env),
                        **common)
    missing = [v.name for v in VARIABLES if v.profile == "aws" and v.required and not env.get(v.name)]
    if missing:
        raise SettingsError(
            "the aws profile cannot start; set these environment variables: " + ", ".join(missing)
        )
    output = env["LAKEHOUSE_ATHENA_OUTPUT"]
    if not output.startswith("s3://"):
        raise SettingsError(f"LAKEHOUSE_ATHENA_OUTPUT must be an s3:// URI, not {output!r}")
    return Settings(
        profile="aws",
        layer_uris={layer: f"s3://{env[f'LAKEHOUSE_{layer.upper()}_BUCKET'].strip('/')}" for layer in LAYERS},
        scripts_uri=f"s3://{env['LAKEHOUSE_SCRIPTS_BUCKET'].strip('/')}",
        region=env["AWS_REGION"],
        kms_key_id=env["LAKEHOUSE_KMS_KEY_ID"],
        glue_role_arn=env["LAKEHOUSE_GLUE_ROLE_ARN"],
        glue_security_configuration=env.get("LAKEHOUSE_GLUE_SECURITY_CONFIGURATION") or "lakehouse",
        glue_database_prefix=env.get("LAKEHOUSE_GLUE_DATABASE_PREFIX", ""),
        name_prefix=env.get("LAKEHOUSE_NAME_PREFIX") or "lakehouse",
        run_crawlers=_flag(env, "LAKEHOUSE_GLUE_RUN_CRAWLERS", True),
        crawler_timeout_seconds=_seconds(env, "LAKEHOUSE_GLUE_CRAWLER_TIMEOUT_SECONDS", 900.0),
        athena_workgroup=env["LAKEHOUSE_ATHENA_WORKGROUP"],
        athena_output=output,
        snowflake_account=env["SNOWFLAKE_ACCOUNT"],
        snowflake_user=env["SNOWFLAKE_USER"],
        snowflake_warehouse=env.get("SNOWFLAKE_WAREHOUSE", ""),
        snowflake_storage_integration=env.get("SNOWFLAKE_STORAGE_INTEGRATION") or "LAKEHOUSE_S3",
        snowflake_gold_stage=env.get("SNOWFLAKE_GOLD_STAGE") or "LAKEHOUSE.GOLD.GOLD_STAGE",
        endpoint_url=env.get("AWS_ENDPOINT_URL", ""),
        **common,
    )


def _date(value: str, name: str) -> date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise SettingsError(f"{name} must be a date YYYY-MM-DD, not {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"{name} must be a valid date YYYY-MM-DD, not {value!r}") from None


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise SettingsError(f"{name} must be true or false, not {env[name]!r}")
    return value in ("true", "1", "yes")


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "").strip()
    try:
        seconds = float(value) if value else default
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {value!r}") from None
    if seconds <= 0:
        raise SettingsError(f"{name} must be positive, not {value!r}")
    return seconds
