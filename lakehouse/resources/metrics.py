"""Operational metrics per asset run (rows in and out, quarantine, duration) and alerts.

Locally they append to a JSON Lines file under the root and go to the run log; on AWS they are
CloudWatch metrics in one namespace with the dimensions layer and table, which the alarms watch.
"""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone
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


UNITS: dict[str, str] = {
    "rows_in": "Count", "rows_out": "Count", "quarantined_rows": "Count", "corrupt_files": "Count",
    "failed_runs": "Count", "stale_marts": "Count", "quarantine_ratio": "None", "duration_seconds": "Seconds",
}
DIMENSIONS: tuple[str, str] = ("layer", "table")


class CloudWatchMetrics(Metrics):
    """CloudWatch `put_metric_data` in one namespace, dimensions `layer` and `table` (what the alarms select on)."""

    region: str
    endpoint_url: str = ""
    namespace: str = NAMESPACE

    def publish(self, layer: str, table: str, values: dict[str, float]) -> None:
        """One datum per finite value, with its unit, all stamped with the same time; at most 1000 per call.

        CloudWatch rejects NaN and infinities (a quarantine ratio of an empty input is 0/0), so those are
        left out rather than failing the asset that reports them.
        """
        import boto3

        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        now = datetime.now(timezone.utc)
        dimensions = [{"Name": DIMENSIONS[0], "Value": layer}, {"Name": DIMENSIONS[1], "Value": table}]
        data = [
            {"MetricName": name, "Value": float(value), "Unit": UNITS.get(name, "Count"),
             "Dimensions": dimensions, "Timestamp": now}
            for name, value in values.items() if math.isfinite(float(value))
        ]
        client = boto3.client("cloudwatch", **kwargs)
        for start in range(0, len(data), 1000):
            client.put_metric_data(Namespace=self.namespace, MetricData=data[start:start + 1000])
