"""The code location loads under both profiles with identical asset, check and resource keys."""

from __future__ import annotations

import dagster as dg
import pytest

from lakehouse.definitions import build_definitions
from lakehouse.resources import RESOURCE_KEYS
from lakehouse.settings import VARIABLES, SettingsError, load_settings

AWS_ENV = {
    "LAKEHOUSE_ENV": "aws",
    "AWS_REGION": "eu-west-1",
    "LAKEHOUSE_KMS_KEY_ID": "alias/lakehouse",
    "LAKEHOUSE_GLUE_ROLE_ARN": "arn:aws:iam::123456789012:role/lakehouse-glue",
    "LAKEHOUSE_ATHENA_WORKGROUP": "lakehouse",
    "LAKEHOUSE_ATHENA_OUTPUT": "s3://lakehouse-athena/results/",
    "SNOWFLAKE_ACCOUNT": "acme-lakehouse",
    "SNOWFLAKE_USER": "loader",
    "SNOWFLAKE_PASSWORD": "not-a-real-secret",
    **{f"LAKEHOUSE_{layer}_BUCKET": f"acme-{layer.lower()}" for layer in ("LANDING", "BRONZE", "SILVER", "GOLD", "QUARANTINE", "SCRIPTS")},
}


def _shape(defs: dg.Definitions) -> tuple[set[str], set[str], set[tuple[str, str]], set[str]]:
    graph = defs.resolve_asset_graph()
    assets = {k.to_user_string() for k in graph.get_all_asset_keys()}
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    return assets, set(defs.resources or {}), checks, groups


def test_both_profiles_expose_identical_keys(tmp_path) -> None:
    local = _shape(build_definitions(load_settings({"LAKEHOUSE_ROOT": str(tmp_path)})))
    aws = _shape(build_definitions(load_settings(AWS_ENV)))
    assert local == aws
    assets, resources, checks, groups = local
    assert resources == set(RESOURCE_KEYS)
    assert {"bronze/db__orders", "bronze/api__customers", "bronze/files__part", "bronze/logs__web_access"} <= assets
    assert ("bronze/db__orders", "rows_match_source") in checks
    assert groups <= {"bronze", "silver", "gold", "snowflake"}


def test_every_asset_is_described_owned_and_grouped(tmp_path) -> None:
    graph = build_definitions(load_settings({"LAKEHOUSE_ROOT": str(tmp_path)})).resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, key
        assert node.owners, key
        assert node.group_name == key.path[0], key
        assert node.kinds, key


def test_aws_profile_refuses_to_start_naming_every_missing_variable() -> None:
    required = [v.name for v in VARIABLES if v.profile == "aws" and v.required]
    env = {k: v for k, v in AWS_ENV.items() if k not in ("LAKEHOUSE_KMS_KEY_ID", "SNOWFLAKE_USER", "LAKEHOUSE_GOLD_BUCKET")}
    with pytest.raises(ValueError) as error:
        load_settings(env)
    message = str(error.value)
    for name in ("LAKEHOUSE_KMS_KEY_ID", "SNOWFLAKE_USER", "LAKEHOUSE_GOLD_BUCKET"):
        assert name in message
    for name in set(required) - {"LAKEHOUSE_KMS_KEY_ID", "SNOWFLAKE_USER", "LAKEHOUSE_GOLD_BUCKET"}:
        assert name not in message
    with pytest.raises(ValueError) as everything:
        load_settings({"LAKEHOUSE_ENV": "aws"})
    assert all(name in str(everything.value) for name in required)


def test_unknown_profile_is_rejected() -> None:
    with pytest.raises(ValueError, match="LAKEHOUSE_ENV"):
        load_settings({"LAKEHOUSE_ENV": "prod"})


def test_aws_profile_maps_buckets_and_endpoint() -> None:
    settings = load_settings({**AWS_ENV, "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    assert settings.uri("bronze", "db__orders") == "s3://acme-bronze/db__orders"
    assert settings.endpoint_url == "http://127.0.0.1:5000"
    resources = build_definitions(settings).resources
    assert resources["athena"].workgroup == "lakehouse"
    assert resources["catalog"].endpoint_url == "http://127.0.0.1:5000"


def test_readme_documents_every_variable() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = [v.name for v in VARIABLES if f"`{v.name}`" not in readme]
    assert not missing, f"README configuration table lacks {missing}"


def test_crawler_settings_reach_the_catalog_and_bad_values_are_refused() -> None:
    env = {**AWS_ENV, "LAKEHOUSE_GLUE_DATABASE_PREFIX": "acme_", "LAKEHOUSE_GLUE_RUN_CRAWLERS": "false",
           "LAKEHOUSE_GLUE_CRAWLER_TIMEOUT_SECONDS": "120"}
    catalog = build_definitions(load_settings(env)).resources["catalog"]
    assert (catalog.database_prefix, catalog.run_crawler, catalog.crawler_timeout_seconds) == ("acme_", False, 120.0)
    defaults = build_definitions(load_settings(AWS_ENV)).resources["catalog"]
    assert (defaults.run_crawler, defaults.crawler_timeout_seconds) == (True, 900.0)
    with pytest.raises(SettingsError, match="LAKEHOUSE_GLUE_RUN_CRAWLERS must be true or false"):
        load_settings({**AWS_ENV, "LAKEHOUSE_GLUE_RUN_CRAWLERS": "sometimes"})
    with pytest.raises(SettingsError, match="LAKEHOUSE_GLUE_CRAWLER_TIMEOUT_SECONDS must be"):
        load_settings({**AWS_ENV, "LAKEHOUSE_GLUE_CRAWLER_TIMEOUT_SECONDS": "soon"})


def test_engine_is_chosen_locally_and_always_spark_on_aws(tmp_path) -> None:
    local = {"LAKEHOUSE_ROOT": str(tmp_path)}
    assert build_definitions(load_settings(local)).resources["glue"].engine == "duckdb"
    assert build_definitions(load_settings({**local, "LAKEHOUSE_ENGINE": "spark"})).resources["glue"].engine == "spark"
    assert build_definitions(load_settings({**AWS_ENV, "LAKEHOUSE_ENGINE": "duckdb"})).resources["glue"].engine == "spark"
    with pytest.raises(SettingsError, match="LAKEHOUSE_ENGINE must be one of duckdb, spark, not 'polars'"):
        load_settings({**local, "LAKEHOUSE_ENGINE": "polars"})
