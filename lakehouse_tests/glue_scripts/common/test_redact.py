"""The one redaction: URL userinfo passwords, password-like parameters, bearer credentials and secret values."""

from glue_scripts.common.redact import SECRET_VARIABLES, carries_secret, is_secret_name, redact, redact_args, redact_value
from lakehouse.settings import VARIABLES

ENV = {"LAKEHOUSE_API_TOKEN": "tok-canary-1", "SNOWFLAKE_PASSWORD": "sf-canary-2", "LAKEHOUSE_DB_PASSWORD": "x"}


def test_every_secret_setting_is_a_known_secret_variable() -> None:
    secret_settings = {v.name for v in VARIABLES if is_secret_name(v.name)}
    assert secret_settings == {"LAKEHOUSE_DB_PASSWORD", "LAKEHOUSE_API_TOKEN", "SNOWFLAKE_PASSWORD"}
    assert secret_settings <= set(SECRET_VARIABLES)


def test_urls_parameters_and_bearer_credentials_are_masked() -> None:
    cases = {
        "jdbc:postgresql://etl:pw@h:5432/db?password=pw2&ssl=true": "jdbc:postgresql://etl:***@h:5432/db?password=***&ssl=true",
        "jdbc:postgresql://h/db?user=etl&PWD=pw;loginTimeout=3": "jdbc:postgresql://h/db?user=etl&PWD=***;loginTimeout=3",
        "GET http://api/v1?api_key=k1&access_token=t1&limit=5": "GET http://api/v1?api_key=***&access_token=***&limit=5",
        "s3://b/k?X-Amz-Signature=abc&X-Amz-Security-Token=zz": "s3://b/k?X-Amz-Signature=***&X-Amz-Security-Token=***",
        "Authorization: Bearer abc.def": "Authorization: Bearer ***",
        "postgresql://postgres@127.0.0.1:5432/lakehouse": "postgresql://postgres@127.0.0.1:5432/lakehouse",
        "primary_key=o_orderkey, partition_key=day": "primary_key=o_orderkey, partition_key=day",
        "https://maps/api?key=AIza&q=x": "https://maps/api?key=***&q=x",
    }
    for text, expected in cases.items():
        assert redact(text, {}) == expected, text


def test_values_of_secret_variables_are_masked_wherever_they_appear() -> None:
    assert redact("token tok-canary-1 and sf-canary-2 in text", ENV) == "token *** and *** in text"
    assert redact("a short x stays", ENV) == "a short x stays"  # shorter than MIN_SECRET_LENGTH
    assert carries_secret("jdbc:postgresql://u:p@h/db", {}) and not carries_secret("jdbc:sqlite:/tmp/db", {})


def test_arguments_and_nested_values() -> None:
    args = {"jdbc_url": "jdbc:postgresql://u:p@h/d", "jdbc_password_env": "LAKEHOUSE_DB_PASSWORD",
            "api_token_env": "LAKEHOUSE_API_TOKEN", "password": "plain", "primary_key": "k"}
    assert redact_args(args, {}) == {**args, "jdbc_url": "jdbc:postgresql://u:***@h/d", "password": "***"}
    value = {"source_ref": "GET http://h/?token=t", "rows": 3, "files": [{"path": "tok-canary-1"}]}
    assert redact_value(value, ENV) == {"source_ref": "GET http://h/?token=***", "rows": 3, "files": [{"path": "***"}]}
