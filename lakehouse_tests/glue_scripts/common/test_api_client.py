"""ApiClient against a real local HTTP server: auth, Retry-After, 5xx retries, the bound, pagination."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timezone

import pytest

from glue_scripts.common.api_client import ApiClient, ApiError, parse_retry_after
from lakehouse_tests.glue_scripts.fake_api import TOKEN, FakeApi, serve

RECORDS = [f'{{"c_custkey": {i}, "c_acctbal": {i}.10, "c_name": " n{i} "}}' for i in range(5)]


def _client(url: str, sleeps: list[float] | None = None, **kwargs) -> ApiClient:
    def record(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    return ApiClient(url, TOKEN, source="api__customers", backoff=0.01, backoff_max=0.05, sleep=record, **kwargs)


def test_paginates_and_retries_429_and_500_honouring_retry_after() -> None:
    api = FakeApi(RECORDS, faults=[(429, {"Retry-After": "1"}), (500, {}), (503, {})])
    sleeps: list[float] = []
    with serve(api):
        client = ApiClient(api.url, TOKEN, source="api__customers", backoff=0.01, backoff_max=0.05,
                           sleep=lambda s: (sleeps.append(s), time.sleep(s)))
        pages = list(client.pages("/v1/customers", {"updated_since": "a", "updated_until": "b"}, limit=2))
    assert [c for c, _ in pages] == [None, "2", "4"]
    records = [r for _, page in pages for r in page]
    assert [r["c_custkey"] for r in records] == ["0", "1", "2", "3", "4"]
    assert records[1] == {"c_custkey": "1", "c_acctbal": "1.10", "c_name": " n1 "}
    assert len(api.log) == 3 + 3
    assert sleeps[0] >= 1.0 and all(s <= 0.05 for s in sleeps[1:])
    assert api.log[1]["time"] - api.log[0]["time"] >= 1.0
    assert api.log[0]["query"] == {"updated_since": "a", "updated_until": "b", "limit": "2"}
    assert api.log[-1]["query"]["cursor"] == "4"
    assert all(entry["auth"] == f"Bearer {TOKEN}" for entry in api.log)


def test_gives_up_after_the_bound_with_a_clear_error() -> None:
    api = FakeApi(RECORDS, faults=[(500, {})] * 10)
    sleeps: list[float] = []
    with serve(api), pytest.raises(ApiError) as err:
        _client(api.url, sleeps, max_attempts=3).get_json("/v1/customers", {"limit": 2})
    assert len(api.log) == 3 and len(sleeps) == 2
    message = str(err.value)
    assert "api__customers" in message and f"{api.url}/v1/customers?limit=2" in message and "500" in message


def test_without_the_token_fails_at_once_with_401() -> None:
    api = FakeApi(RECORDS)
    with serve(api), pytest.raises(ApiError, match="401"):
        ApiClient(api.url, "wrong", source="api__customers", sleep=lambda s: None).get_json("/v1/customers", {})
    assert len(api.log) == 1


def test_connection_errors_are_retried_then_named() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    with pytest.raises(ApiError, match=r"api__customers.*127\.0\.0\.1.*ConnectionError"):
        _client(f"http://127.0.0.1:{port}", sleeps, max_attempts=2).get_json("/v1/customers", {})
    assert len(sleeps) == 1


def test_parse_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2024, 1, 2, 0, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Tue, 02 Jan 2024 00:00:30 GMT", lambda: now) == 30.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
