"""BotoAthena on the emulated account: query ids, polling with backoff, the encrypted workgroup output, failures.

moto does not execute SQL: each result is queued through its results API
(`POST /moto-api/static/athena/query-results`) and handed to the next query started. Execution states
are slowed with moto's state manager (`athena::execution`, manual progression) to exercise polling and
the timeout. moto never lets a query FAIL (its executions only go QUEUED -> RUNNING -> SUCCEEDED, or
CANCELLED when stopped), so the FAILED path runs against moto too, with only the state in
GetQueryExecution's parsed response replaced by a botocore event handler.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import boto3
import pyarrow as pa
import pytest

from lakehouse.resources import BotoAthena, QueryError, build_resources
from lakehouse.settings import Settings

pytestmark = pytest.mark.aws

SQL = "SELECT n_name, revenue FROM gold.daily_revenue"
COLUMNS: list[dict[str, Any]] = [
    {"Name": "n_name", "Type": "varchar"},
    {"Name": "revenue", "Type": "decimal", "Precision": 15, "Scale": 2},
    {"Name": "orders", "Type": "bigint"},
    {"Name": "quantity", "Type": "integer"},
    {"Name": "share", "Type": "double"},
    {"Name": "o_orderdate", "Type": "date"},
    {"Name": "shipped_at", "Type": "timestamp"},
    {"Name": "is_open", "Type": "boolean"},
    {"Name": "tags", "Type": "array"},
]
ROWS: list[list[str | None]] = [
    ["FRANCE", "1234.56", "9007199254740993", "7", "0.25", "1995-03-01", "1995-03-02 10:11:12.345", "true", "[a, b]"],
    ["JAPAN", None, None, "-1", "NaN", None, None, "false", None],
]


def _cell(value: str | None) -> dict[str, str]:
    return {} if value is None else {"VarCharValue": value}


@pytest.fixture
def athena(settings: Settings) -> BotoAthena:
    """The aws profile's query engine as build_resources wires it, polling fast."""
    built = build_resources(settings)["athena"]
    assert isinstance(built, BotoAthena)
    return built.model_copy(update={"first_poll_seconds": 0.05})


@pytest.fixture
def client(settings: Settings) -> Any:
    """A plain Athena client on the emulated account, to read back what Athena holds."""
    return boto3.client("athena", region_name=settings.region, endpoint_url=settings.endpoint_url)


def _post(settings: Settings, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(f"{settings.endpoint_url}/moto-api/{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=10).read()


def queue_result(settings: Settings, columns: list[dict[str, Any]], rows: list[list[str | None]]) -> None:
    """Queue the next query's result as Athena returns a SELECT's: the column names, then the rows."""
    header = [{"Data": [_cell(c["Name"]) for c in columns]}]
    data = header + [{"Data": [_cell(v) for v in row]} for row in rows]
    _post(settings, "static/athena/query-results",
          {"region": settings.region, "results": [{"rows": data, "column_info": columns}]})


@pytest.fixture
def executions_advance_after(settings: Settings) -> Iterator[Callable[[int], None]]:
    """A setter for how many GetQueryExecution calls each moto state lasts; immediate again afterwards."""

    def set_polls(times: int) -> None:
        _post(settings, "state-manager/set-transition",
              {"model_name": "athena::execution", "transition": {"progression": "manual", "times": times}})

    yield set_polls
    _post(settings, "state-manager/unset-transition", {"model_name": "athena::execution"})


def test_query_returns_typed_rows_written_under_the_encrypted_workgroup_output(
    settings: Settings, athena: BotoAthena, client: Any
) -> None:
    queue_result(settings, COLUMNS, ROWS)
    execution = athena.execute(SQL)

    assert client.list_query_executions(WorkGroup="lakehouse")["QueryExecutionIds"] == [execution.query_id]
    held = client.get_query_execution(QueryExecutionId=execution.query_id)["QueryExecution"]
    assert (held["Query"], held["WorkGroup"]) == (SQL, settings.athena_workgroup)
    workgroup = client.get_work_group(WorkGroup=settings.athena_workgroup)["WorkGroup"]["Configuration"]
    assert workgroup["EnforceWorkGroupConfiguration"] is True
    output = workgroup["ResultConfiguration"]["OutputLocation"]
    assert output == settings.athena_output
    result = held["ResultConfiguration"]
    assert execution.output_location == result["OutputLocation"] == f"{output}{execution.query_id}.csv"
    encryption = {"EncryptionOption": "SSE_KMS", "KmsKey": settings.kms_key_id}
    assert workgroup["ResultConfiguration"]["EncryptionConfiguration"] == encryption
    assert result["EncryptionConfiguration"] == encryption
    bucket, key = execution.output_location.removeprefix("s3://").split("/", 1)
    s3 = boto3.client("s3", region_name=settings.region, endpoint_url=settings.endpoint_url)
    csv = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert csv.splitlines()[1].startswith('"FRANCE","1234.56"')

    table = execution.table
    assert table.schema == pa.schema([
        ("n_name", pa.string()), ("revenue", pa.decimal128(15, 2)), ("orders", pa.int64()), ("quantity", pa.int32()),
        ("share", pa.float64()), ("o_orderdate", pa.date32()), ("shipped_at", pa.timestamp("us")),
        ("is_open", pa.bool_()), ("tags", pa.string()),
    ])
    first, second = table.to_pylist()
    assert first == {"n_name": "FRANCE", "revenue": Decimal("1234.56"), "orders": 9007199254740993, "quantity": 7,
                     "share": 0.25, "o_orderdate": dt.date(1995, 3, 1),
                     "shipped_at": dt.datetime(1995, 3, 2, 10, 11, 12, 345000), "is_open": True, "tags": "[a, b]"}
    assert second["revenue"] is None and second["orders"] is None and second["quantity"] == -1
    assert second["share"] != second["share"] and second["is_open"] is False and second["o_orderdate"] is None


def test_query_returns_the_arrow_table_of_execute(settings: Settings, athena: BotoAthena) -> None:
    queue_result(settings, [{"Name": "n", "Type": "bigint"}], [["3"]])
    assert athena.query("SELECT count(*) AS n FROM silver.orders").to_pylist() == [{"n": 3}]


def test_polls_with_backoff_until_the_query_succeeds(
    settings: Settings, athena: BotoAthena, executions_advance_after: Callable[[int], None]
) -> None:
    executions_advance_after(2)
    queue_result(settings, [{"Name": "n", "Type": "bigint"}], [["42"]])
    started = time.monotonic()
    execution = athena.execute("SELECT 42 AS n")
    elapsed = time.monotonic() - started
    # QUEUED, RUNNING, RUNNING, then SUCCEEDED on the fourth poll; moto's get_query_results raises before that.
    assert execution.polls == 4
    assert execution.table.to_pylist() == [{"n": 42}]
    assert elapsed >= 0.05 * (1 + 2 + 4), f"three sleeps with doubling delays take 0.35s, not {elapsed:.2f}s"


def test_a_query_that_outlives_the_timeout_is_stopped_and_named(
    settings: Settings, athena: BotoAthena, client: Any, executions_advance_after: Callable[[int], None]
) -> None:
    executions_advance_after(1_000_000)
    message = r"Athena query [0-9a-f-]{36} timed out after 0.3 seconds \(state QUEUED\)"
    with pytest.raises(QueryError, match=message) as error:
        athena.model_copy(update={"timeout_seconds": 0.3}).execute("SELECT * FROM silver.lineitem")
    [query_id] = client.list_query_executions(WorkGroup="lakehouse")["QueryExecutionIds"]
    assert error.value.query_id == query_id and query_id in str(error.value)
    assert client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"] == "CANCELLED"


ATHENA_ERROR = "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.silver.nope' does not exist"
RESULT_CALLS: list[str] = []


class FailingBotoAthena(BotoAthena):
    """BotoAthena on moto whose GetQueryExecution reports FAILED with Athena's error, as moto cannot."""

    def _client(self) -> Any:
        athena = super()._client()

        def fail(parsed: dict[str, Any], **_: Any) -> None:
            parsed["QueryExecution"]["Status"] = {
                "State": "FAILED", "StateChangeReason": ATHENA_ERROR,
                "AthenaError": {"ErrorCategory": 2, "ErrorType": 1006, "Retryable": False,
                                "ErrorMessage": ATHENA_ERROR},
            }

        athena.meta.events.register("after-call.athena.GetQueryExecution", fail)
        athena.meta.events.register("before-call.athena.GetQueryResults", lambda **_: RESULT_CALLS.append("called"))
        return athena


def test_a_failed_query_raises_athenas_message_with_the_query_id(
    settings: Settings, athena: BotoAthena, client: Any
) -> None:
    RESULT_CALLS.clear()
    failing = FailingBotoAthena(**athena.model_dump())
    with pytest.raises(QueryError) as error:
        failing.query("SELECT * FROM silver.nope")
    [query_id] = client.list_query_executions(WorkGroup="lakehouse")["QueryExecutionIds"]
    assert str(error.value) == f"Athena query {query_id} FAILED: {ATHENA_ERROR}"
    assert error.value.query_id == query_id
    assert RESULT_CALLS == []


def test_an_unknown_workgroup_is_refused_with_athenas_message(athena: BotoAthena) -> None:
    with pytest.raises(QueryError, match="workgroup missing: .*WorkGroup does not exist"):
        athena.model_copy(update={"workgroup": "missing"}).query("SELECT 1")


def test_lakehouse_query_on_the_aws_profile_runs_the_sql_on_athena(settings: Settings, client: Any) -> None:
    from click.testing import CliRunner

    from lakehouse.cli import main
    from lakehouse.resources import query_engine

    engine = query_engine(settings)
    assert isinstance(engine, BotoAthena)
    assert engine.model_dump() == build_resources(settings)["athena"].model_dump()
    columns = [{"Name": "n_name", "Type": "varchar"}, {"Name": "tags", "Type": "array"}]
    queue_result(settings, columns, [["FRANCE", "[a]"]])
    result = CliRunner().invoke(main, ["query", "--format", "csv", "SELECT n_name, tags FROM gold.daily_revenue"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["n_name,tags", "FRANCE,[a]"]
    ids = client.list_query_executions(WorkGroup=settings.athena_workgroup)["QueryExecutionIds"]
    held = [client.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]
    assert held == ["SELECT n_name, tags FROM gold.daily_revenue"]
