"""Fixtures of the emulated AWS account: a fresh account per test on the session's moto server.

The server is the shared `moto_endpoint` fixture (lakehouse_tests/fixtures/servers.py).
"""

from __future__ import annotations

import urllib.request

import pytest

from lakehouse.settings import Settings, load_settings
from lakehouse_tests.aws.account import DEFAULT_TEMPLATE, Account, deploy_template

ENV_NAME = "test"
SNOWFLAKE_ENV = {"SNOWFLAKE_ACCOUNT": "acct", "SNOWFLAKE_USER": "lakehouse", "SNOWFLAKE_PASSWORD": "unused"}


def reset_moto(endpoint: str) -> None:
    """Forget every resource of every account on the moto server."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).read()


@pytest.fixture
def aws_deployment(moto_endpoint: str) -> Account:
    """A reset moto server holding the account infra/lakehouse.yaml declares (environment `test`)."""
    reset_moto(moto_endpoint)
    return deploy_template(moto_endpoint, DEFAULT_TEMPLATE, ENV_NAME)


@pytest.fixture
def aws_account(aws_deployment: Account) -> dict[str, str]:
    """The aws profile's environment variables for the freshly created account."""
    return dict(aws_deployment.env)


@pytest.fixture
def settings(aws_account: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The aws profile resolved from the emulated account's environment (dummy Snowflake credentials)."""
    for name, value in {**aws_account, **SNOWFLAKE_ENV}.items():
        monkeypatch.setenv(name, value)
    return load_settings()
