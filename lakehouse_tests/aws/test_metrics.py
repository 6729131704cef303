"""CloudWatchMetrics on the emulated account: per-asset metrics read back from moto's CloudWatch.

The namespace and dimension names are taken from the quarantine-ratio alarm the template deploys
(`SELECT MAX(quarantine_ratio) FROM SCHEMA("Lakehouse", layer, "table")`), so the metrics are
published exactly where the alarm looks.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from lakehouse.resources import build_resources
from lakehouse.resources.metrics import CloudWatchMetrics
from lakehouse.settings import Settings

pytestmark = pytest.mark.aws

ORDERS = {"rows_in": 1000.0, "rows_out": 950.0, "quarantined_rows": 50.0, "quarantine_ratio": 0.05,
          "duration_seconds": 12.5}
UNITS = {"rows_in": "Count", "rows_out": "Count", "quarantined_rows": "Count", "quarantine_ratio": "None",
         "duration_seconds": "Seconds"}


@pytest.fixture
def cloudwatch(settings: Settings) -> Any:
    """A plain CloudWatch client on the emulated account, to read the metrics back."""
    return boto3.client("cloudwatch", region_name=settings.region, endpoint_url=settings.endpoint_url)


@pytest.fixture
def metrics(settings: Settings) -> CloudWatchMetrics:
    """The aws profile's metrics resource as build_resources wires it."""
    built = build_resources(settings)["metrics"]
    assert isinstance(built, CloudWatchMetrics)
    return built


def alarm_schema(cloudwatch: Any) -> tuple[str, list[str]]:
    """Namespace and dimension names the quarantine-ratio alarm's metrics query selects on."""
    [alarm] = cloudwatch.describe_alarms(AlarmNames=["lakehouse-quarantine-ratio"])["MetricAlarms"]
    [query] = alarm["Metrics"]
    match = re.search(r"FROM SCHEMA\((.*)\)", query["Expression"])
    assert match, query["Expression"]
    namespace, *dimensions = [part.strip().strip('"') for part in match.group(1).split(",")]
    return namespace, dimensions


def dimensions(layer: str, table: str) -> list[dict[str, str]]:
    return [{"Name": "layer", "Value": layer}, {"Name": "table", "Value": table}]


def window() -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    return {"StartTime": now - timedelta(minutes=10), "EndTime": now + timedelta(minutes=10)}


def test_metrics_land_in_the_namespace_and_dimensions_the_alarm_selects(
    metrics: CloudWatchMetrics, cloudwatch: Any
) -> None:
    metrics.publish("silver", "orders", ORDERS)
    namespace, names = alarm_schema(cloudwatch)
    listed = cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    assert sorted(m["MetricName"] for m in listed) == sorted(ORDERS)
    assert all([d["Name"] for d in m["Dimensions"]] == names for m in listed), listed
    assert all(m["Dimensions"] == dimensions("silver", "orders") for m in listed)


def test_each_value_reads_back_with_its_unit_per_layer_and_table(metrics: CloudWatchMetrics, cloudwatch: Any) -> None:
    metrics.publish("silver", "orders", ORDERS)
    metrics.publish("silver", "customer", {"rows_in": 7.0, "rows_out": 7.0, "duration_seconds": 1.0})
    metrics.publish("silver", "orders", {"rows_in": 500.0})
    for name, value in ORDERS.items():
        stats = cloudwatch.get_metric_statistics(
            Namespace="Lakehouse", MetricName=name, Dimensions=dimensions("silver", "orders"), Period=3600,
            Statistics=["Sum", "SampleCount", "Maximum"], **window(),
        )["Datapoints"]
        expected_sum = value + 500.0 if name == "rows_in" else value
        assert [(d["Sum"], d["Unit"]) for d in stats] == [(expected_sum, UNITS[name])], (name, stats)
    customer = cloudwatch.get_metric_statistics(
        Namespace="Lakehouse", MetricName="rows_in", Dimensions=dimensions("silver", "customer"), Period=3600,
        Statistics=["Sum"], **window(),
    )["Datapoints"]
    assert [d["Sum"] for d in customer] == [7.0]


def test_get_metric_data_returns_the_quarantine_ratio_and_duration(metrics: CloudWatchMetrics, cloudwatch: Any) -> None:
    metrics.publish("silver", "lineitem", {**ORDERS, "quarantine_ratio": 0.2, "duration_seconds": 30.0})
    queries = [
        {"Id": name, "MetricStat": {"Metric": {"Namespace": "Lakehouse", "MetricName": name,
                                               "Dimensions": dimensions("silver", "lineitem")},
                                    "Period": 60, "Stat": "Maximum"}}
        for name in ("quarantine_ratio", "duration_seconds")
    ]
    results = cloudwatch.get_metric_data(MetricDataQueries=queries, **window())["MetricDataResults"]
    assert {r["Id"]: r["Values"] for r in results} == {"quarantine_ratio": [0.2], "duration_seconds": [30.0]}


def test_non_finite_values_are_left_out_and_the_rest_published(metrics: CloudWatchMetrics, cloudwatch: Any) -> None:
    metrics.publish("silver", "nation", {"rows_in": 0.0, "quarantine_ratio": float("nan"),
                                         "duration_seconds": float("inf")})
    listed = cloudwatch.list_metrics(Namespace="Lakehouse", Dimensions=dimensions("silver", "nation"))["Metrics"]
    assert [m["MetricName"] for m in listed] == ["rows_in"]
