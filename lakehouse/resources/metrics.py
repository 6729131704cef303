"""Operational metrics per asset run (rows in and out, quarantine, duration) and alerts.

Locally they append to a JSON Lines file under the root and go to the run log; on AWS they are
CloudWatch metrics in one namespace with the dimensions layer and table, which the alarms watch.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import dagster as dg

NAMESPACE = "Lakehouse"


class Metrics(dg.ConfigurableResource):
    """Publishes named numeric measures for one layer and table."""

    def publish(self, layer: str, table: str, values: dict[str, float]) -> None:
        """Record each value under the dimensions layer and table."""
        raise NotImplementedError


class LocalMetrics(Metrics):
    """Metrics as JSON lines in `<root>/metrics/metrics.jsonl`."""

    path: str

    def publish(self, layer: str, table: str, values: dict[str, float]) -> None:
        """Append one record per call, stamped with the wall-clock time."""
        target = Path(self.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        record = {"namespace": NAMESPACE, "time": time.time(), "layer": layer, "table": table,
                  "values": {k: float(v) for k, v in values.items()}}
        with target.open("a") as handle:
            handle.write(json.dumps(record) + "\n")

    def records(self) -> list[dict[str, Any]]:
        """Every record written so far, oldest first."""
        target = Path(self.path)
        return [json.loads(line) for line in target.read_text().splitlines()] if target.exists() else []


class CloudWatchMetrics(Metrics):
    """CloudWatch `put_metric_data` in the `Lakehouse` namespace."""

    region: str
    endpoint_url: str = ""

    def publish(self, layer: str, table: str, values: dict[str, float]) -> None:
        """One datum per value, dimensions layer and table; at most 1000 per call, as CloudWatch allows."""
        import boto3

        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        unit = {"duration_seconds": "Seconds", "quarantine_ratio": "None"}
        data = [
            {"MetricName": name, "Value": float(value), "Unit": unit.get(name, "Count"),
             "Dimensions": [{"Name": "layer", "Value": layer}, {"Name": "table", "Value": table}]}
            for name, value in values.items()
        ]
        client = boto3.client("cloudwatch", **kwargs)
        for start in range(0, len(data), 1000):
            client.put_metric_data(Namespace=NAMESPACE, MetricData=data[start:start + 1000])
